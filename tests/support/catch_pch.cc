// Intentionally empty: the target that owns Catch2's precompiled header
// (tests/CMakeLists.txt, mini_vmm_catch_pch), which every test executable
// reuses.
