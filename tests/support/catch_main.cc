// The plain unit tests' main.
#include "tests/support/catch_session.h"

int main(int argc, char* argv[]) { return mini_vmm::test::RunCatch(argc, argv); }
