// fmt's formatting engine, compiled once for the whole tree.
//
// Debian's libfmt-dev ships only libfmt.so, and the release binary is a
// static PIE, so mini-vmm cannot link libfmt. Compiling fmt header-only
// (FMT_HEADER_ONLY) instead made every translation unit that includes
// result.h or log.h parse and compile the engine (format-inl.h): about
// twice the compile time of such a TU. Here the engine is compiled in this
// one TU, as fmt's own src/format.cc does for libfmt, and every other TU
// uses fmt in its normal mode (declarations only) and links mini_vmm_fmt.
//
// format-inl.h defines the non-template functions (vformat, format_error,
// report_error, ...); the templates below are the ones fmt's headers only
// declare (or declare extern), so each is instantiated here for the types
// fmt's own library provides. A missing one shows as an undefined
// reference at link time.
#include <fmt/format-inl.h>

#include <locale>

FMT_BEGIN_NAMESPACE
namespace detail {

// Shortest round-trip float formatting (format.h declares only).
template auto dragonbox::to_decimal(float x) noexcept -> dragonbox::decimal_fp<float>;
template auto dragonbox::to_decimal(double x) noexcept -> dragonbox::decimal_fp<double>;

// Locale-aware formatting ({:L}) and fmt::format(std::locale, ...).
template locale_ref::locale_ref(const std::locale& loc);
template auto locale_ref::get<std::locale>() const -> std::locale;

// format.h declares these extern unless FMT_HEADER_ONLY.
template auto thousands_sep_impl(locale_ref) -> thousands_sep_result<char>;
template auto decimal_point_impl(locale_ref) -> char;
template auto thousands_sep_impl(locale_ref) -> thousands_sep_result<wchar_t>;
template auto decimal_point_impl(locale_ref) -> wchar_t;

// buffer<T>::append is declared in core.h and defined in format.h; TUs that
// include only core.h (most of mini-vmm, through format.h) still need it.
template void buffer<char>::append(const char* begin, const char* end);
template void buffer<wchar_t>::append(const wchar_t* begin, const wchar_t* end);

// The engine proper, for the char buffers fmt::vformat and format_to use.
template void vformat_to(buffer<char>& buf, string_view fmt,
                         basic_format_args<FMT_BUFFER_CONTEXT(char)> args, locale_ref loc);

}  // namespace detail
FMT_END_NAMESPACE
