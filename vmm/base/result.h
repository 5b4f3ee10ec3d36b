// Result<T>: the value of an operation that can fail for a host reason.
//
// Guest-caused faults are not host errors and never travel as a Result; see
// STYLE.md. Usage:
//
//   Result<UniqueFd> OpenImage(const std::string& path) {
//     int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
//     if (fd < 0) return Error::Errno(errno, "cannot open kernel image \"{}\"", path);
//     return UniqueFd(fd);
//   }
//   Result<void> Load(...) {
//     UniqueFd fd = TRY(OpenImage(path));   // returns the error to our caller
//     ...
//     return {};
//   }
#pragma once

#include <cstring>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

#include "vmm/base/check.h"
#include "vmm/base/format.h"

namespace mini_vmm {

class [[nodiscard]] Error {
 public:
  // An error with a host errno; the message gets ": <strerror>" appended.
  template <typename... Args>
  static Error Errno(int err, fmt::format_string<Args...> format, Args&&... args) {
    return Error(err, Format(format, std::forward<Args>(args)...));
  }
  // An error that is not a failed system call (bad input, bad file format).
  template <typename... Args>
  static Error Invalid(fmt::format_string<Args...> format, Args&&... args) {
    return Error(0, Format(format, std::forward<Args>(args)...));
  }

  int errno_value() const { return errno_; }
  const std::string& context() const { return context_; }

  // One sentence: the context, then the cause if there is an errno.
  std::string ToString() const {
    if (errno_ == 0) return context_;
    return context_ + ": " + std::strerror(errno_);
  }

 private:
  Error(int err, std::string context) : errno_(err), context_(std::move(context)) {}

  int errno_;
  std::string context_;
};

template <typename T>
class [[nodiscard]] Result {
 public:
  using value_type = T;

  Result(Error error) : storage_(std::in_place_index<1>, std::move(error)) {}  // NOLINT
  template <typename U = T, typename = std::enable_if_t<std::is_constructible_v<T, U&&> &&
                                                        !std::is_same_v<std::decay_t<U>, Result> &&
                                                        !std::is_same_v<std::decay_t<U>, Error>>>
  Result(U&& value) : storage_(std::in_place_index<0>, std::forward<U>(value)) {}  // NOLINT

  bool ok() const { return storage_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & {
    VMM_CHECK(ok());
    return std::get<0>(storage_);
  }
  const T& value() const& {
    VMM_CHECK(ok());
    return std::get<0>(storage_);
  }
  T&& value() && {
    VMM_CHECK(ok());
    return std::get<0>(std::move(storage_));
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const Error& error() const& {
    VMM_CHECK(!ok());
    return std::get<1>(storage_);
  }
  Error&& error() && {
    VMM_CHECK(!ok());
    return std::get<1>(std::move(storage_));
  }

 private:
  std::variant<T, Error> storage_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  using value_type = void;

  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  void value() const { VMM_CHECK(ok_); }

  const Error& error() const& {
    VMM_CHECK(!ok_);
    return error_;
  }
  Error&& error() && {
    VMM_CHECK(!ok_);
    return std::move(error_);
  }

 private:
  Error error_ = Error::Invalid("");
  bool ok_ = true;
};

namespace internal {
template <typename T>
T TakeValue(Result<T>&& r) {
  return std::move(r).value();
}
inline void TakeValue(Result<void>&& /*r*/) {}
}  // namespace internal

}  // namespace mini_vmm

// Evaluates a Result-valued expression; on error returns the error from the
// enclosing function, otherwise yields the value (a GNU statement expression,
// supported by g++ and clang).
#define TRY(expr)                                                 \
  ({                                                              \
    auto&& try_result_ = (expr);                                  \
    if (!try_result_.ok()) return std::move(try_result_).error(); \
    ::mini_vmm::internal::TakeValue(std::move(try_result_));      \
  })
