// An intrusive doubly linked list: O(1) push, unlink and front without any
// allocation, so queue operations and cancel-by-id never scan or allocate.
#pragma once

#include <cstddef>

namespace lane::core {

template <class T>
struct ListHook {
  T *prev = nullptr;
  T *next = nullptr;
};

template <class T, ListHook<T> T::*Hook>
class IntrusiveList {
 public:
  IntrusiveList() = default;
  IntrusiveList(const IntrusiveList &) = delete;
  IntrusiveList &operator=(const IntrusiveList &) = delete;

  [[nodiscard]] bool empty() const { return head_ == nullptr; }
  [[nodiscard]] std::size_t size() const { return size_; }
  [[nodiscard]] T *front() const { return head_; }
  [[nodiscard]] T *back() const { return tail_; }
  static T *next(const T *x) { return (x->*Hook).next; }

  void push_back(T *x) { insert_before(nullptr, x); }
  void push_front(T *x) { insert_before(head_, x); }

  // Inserts x before pos (nullptr = at the back).
  void insert_before(T *pos, T *x) {
    ListHook<T> &h = x->*Hook;
    h.next = pos;
    h.prev = pos ? (pos->*Hook).prev : tail_;
    if (h.prev) {
      (h.prev->*Hook).next = x;
    } else {
      head_ = x;
    }
    if (pos) {
      (pos->*Hook).prev = x;
    } else {
      tail_ = x;
    }
    ++size_;
  }

  void remove(T *x) {
    ListHook<T> &h = x->*Hook;
    if (h.prev) {
      (h.prev->*Hook).next = h.next;
    } else {
      head_ = h.next;
    }
    if (h.next) {
      (h.next->*Hook).prev = h.prev;
    } else {
      tail_ = h.prev;
    }
    h = ListHook<T>{};
    --size_;
  }

  T *pop_front() {
    T *x = head_;
    if (x) remove(x);
    return x;
  }

 private:
  T *head_ = nullptr;
  T *tail_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace lane::core
