#pragma once
// kinship::expected and kinship::unexpected: std::expected where the
// standard library offers it (g++ 12 in C++23 mode), otherwise a small
// stand-in with the part of its interface kinship uses. clang 14 with
// libstdc++ 12 hides <expected> (it checks __cpp_concepts >= 202002L, and
// clang 14 reports 201907L), and a packager may build with clang 14.

#include <version>

#if defined(__cpp_lib_expected)

#include <expected>

namespace kinship {
using std::expected;
using std::unexpected;
}  // namespace kinship

#else

#include <type_traits>
#include <utility>
#include <variant>

namespace kinship {

template <typename E>
class unexpected {
 public:
  explicit unexpected(E error) : error_(std::move(error)) {}
  const E& error() const& { return error_; }
  E& error() & { return error_; }
  E&& error() && { return std::move(error_); }

 private:
  E error_;
};

template <typename E>
unexpected(E) -> unexpected<E>;

// Holds a T or an E. Accessing the wrong one is a programming error, as
// with std::expected (which makes it undefined); here it terminates.
template <typename T, typename E>
class expected {
 public:
  expected() requires std::is_default_constructible_v<T> : state_(std::in_place_index<0>) {}
  template <typename U = T>
    requires(std::is_constructible_v<T, U &&> && !std::is_same_v<std::remove_cvref_t<U>, expected> &&
             !std::is_same_v<std::remove_cvref_t<U>, std::in_place_t>)
  expected(U&& value) : state_(std::in_place_index<0>, std::forward<U>(value)) {}
  template <typename G>
    requires std::is_constructible_v<E, const G&>
  expected(const unexpected<G>& error) : state_(std::in_place_index<1>, error.error()) {}
  template <typename G>
    requires std::is_constructible_v<E, G &&>
  expected(unexpected<G>&& error) : state_(std::in_place_index<1>, std::move(error).error()) {}

  bool has_value() const { return state_.index() == 0; }
  explicit operator bool() const { return has_value(); }

  T& value() & { return std::get<0>(state_); }
  const T& value() const& { return std::get<0>(state_); }
  T&& value() && { return std::get<0>(std::move(state_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  E& error() & { return std::get<1>(state_); }
  const E& error() const& { return std::get<1>(state_); }
  E&& error() && { return std::get<1>(std::move(state_)); }

  template <typename U>
  T value_or(U&& fallback) const& {
    return has_value() ? value() : static_cast<T>(std::forward<U>(fallback));
  }

  // As std::expected: equal to a value when it holds an equal value, to an
  // unexpected when it holds an equal error.
  template <typename U>
    requires(!std::is_same_v<std::remove_cvref_t<U>, expected>)
  friend bool operator==(const expected& x, const U& v) {
    return x.has_value() && x.value() == v;
  }
  template <typename G>
  friend bool operator==(const expected& x, const unexpected<G>& e) {
    return !x.has_value() && x.error() == e.error();
  }

 private:
  std::variant<T, E> state_;
};

}  // namespace kinship

#endif
