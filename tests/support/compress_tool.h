// Test fixtures compressed at test time by the real command-line tools
// (scripts/install-deps installs them), as Linux's build runs them.
//
//   std::vector<uint8_t> z = CompressWith("xz --check=crc32 -c", data);
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

namespace mini_vmm::testing {

inline std::vector<uint8_t> CompressWith(const std::string& command,
                                         const std::vector<uint8_t>& data) {
  char dir_template[] = "/tmp/mini-vmm-compress-XXXXXX";
  const char* dir = mkdtemp(dir_template);
  if (dir == nullptr) throw std::runtime_error("mkdtemp failed");
  const std::string in = std::string(dir) + "/in";
  const std::string out = std::string(dir) + "/out";
  {
    std::ofstream file(in, std::ios::binary);
    file.write(reinterpret_cast<const char*>(data.data()),
               static_cast<std::streamsize>(data.size()));
  }
  const std::string shell = command + " < " + in + " > " + out;
  const int status = std::system(shell.c_str());
  std::ifstream file(out, std::ios::binary);
  std::vector<uint8_t> compressed((std::istreambuf_iterator<char>(file)),
                                  std::istreambuf_iterator<char>());
  std::remove(in.c_str());
  std::remove(out.c_str());
  rmdir(dir);
  if (status != 0) throw std::runtime_error("\"" + command + "\" failed");
  return compressed;
}

// Compressible but not trivial: like code, repeated patterns with variety.
inline std::vector<uint8_t> KernelLikeData(size_t size) {
  std::vector<uint8_t> data(size);
  uint32_t x = 12345;
  for (size_t i = 0; i < size; ++i) {
    x = x * 1103515245u + 12345u;
    data[i] = (i % 64 < 48) ? static_cast<uint8_t>(i / 64) : static_cast<uint8_t>(x >> 24);
  }
  return data;
}

inline void AppendLe32(std::vector<uint8_t>& v, uint32_t x) {
  for (int i = 0; i < 4; ++i) v.push_back(static_cast<uint8_t>(x >> (8 * i)));
}

// A bzImage payload as scripts/Makefile.lib makes it: the compressed
// stream, then (except for gzip, whose own trailer is the size) the
// decompressed size, le32 (size_append).
inline std::vector<uint8_t> LinuxPayload(const std::string& command,
                                         const std::vector<uint8_t>& data, uint32_t declared) {
  std::vector<uint8_t> z = CompressWith(command, data);
  if (command.rfind("gzip", 0) != 0) AppendLe32(z, declared);
  return z;
}

}  // namespace mini_vmm::testing
