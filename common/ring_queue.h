#pragma once
// A FIFO queue in one growable ring of slots. std::deque allocates and frees
// a 512-byte node every few elements as a queue moves, which on the sink's
// per-record path was a malloc and a free every ten records; a ring that
// keeps its capacity allocates only when it grows past its largest size.

#include <cassert>
#include <cstddef>
#include <utility>
#include <vector>

namespace kinship {

template <typename T>
class RingQueue {
 public:
  bool empty() const { return size_ == 0; }
  size_t size() const { return size_; }
  size_t capacity() const { return slots_.size(); }

  T& front() {
    assert(size_ > 0);
    return slots_[head_];
  }
  const T& front() const {
    assert(size_ > 0);
    return slots_[head_];
  }
  // i-th element from the front.
  T& operator[](size_t i) {
    assert(i < size_);
    return slots_[wrap(head_ + i)];
  }
  const T& operator[](size_t i) const {
    assert(i < size_);
    return slots_[wrap(head_ + i)];
  }

  void push_back(const T& value) {
    if (size_ == slots_.size()) grow();
    slots_[wrap(head_ + size_)] = value;
    ++size_;
  }
  void pop_front() {
    assert(size_ > 0);
    head_ = wrap(head_ + 1);
    --size_;
  }
  // Removes the i-th element, keeping the order of the others; moves the
  // shorter side.
  void erase(size_t i) {
    assert(i < size_);
    if (i < size_ / 2) {
      for (size_t j = i; j > 0; --j) (*this)[j] = std::move((*this)[j - 1]);
      pop_front();
    } else {
      for (size_t j = i; j + 1 < size_; ++j) (*this)[j] = std::move((*this)[j + 1]);
      --size_;
    }
  }
  void clear() {
    head_ = 0;
    size_ = 0;
  }

  template <typename F>
  void forEach(F&& visit) const {
    for (size_t i = 0; i < size_; ++i) visit((*this)[i]);
  }

 private:
  // Capacity is zero or a power of two.
  size_t wrap(size_t i) const { return i & (slots_.size() - 1); }

  void grow() {
    std::vector<T> larger(slots_.empty() ? 16 : slots_.size() * 2);
    for (size_t i = 0; i < size_; ++i) larger[i] = std::move((*this)[i]);
    slots_ = std::move(larger);
    head_ = 0;
  }

  std::vector<T> slots_;
  size_t head_ = 0;
  size_t size_ = 0;
};

}  // namespace kinship
