#include "port.hpp"

#include "wait.hpp"

#include <algorithm>
#include <cstring>

lane_port_s::lane_port_s() = default;

lane_port_s::~lane_port_s() = default;

void lane_port_s::signal_locked() {
  if (signalled_) return;
  wakeup_.set();
  signalled_ = true;
}

void lane_port_s::drain_locked() {
  if (!signalled_) return;
  wakeup_.clear();
  signalled_ = false;
}

void lane_port_s::grow_locked(std::size_t need) {
  if (need <= ring_.size()) return;
  std::vector<lane_event_t> bigger(std::max({need, 2 * ring_.size(), std::size_t{16}}));
  for (std::size_t i = 0; i < count_; ++i) bigger[i] = ring_[(head_ + i) % ring_.size()];
  ring_.swap(bigger);
  head_ = 0;
}

void lane_port_s::reserve(std::size_t n) {
  std::lock_guard lk(mu_);
  grow_locked(count_ + reserved_ + n);
  reserved_ += n;
}

void lane_port_s::unreserve(std::size_t n) {
  std::lock_guard lk(mu_);
  reserved_ -= n;
}

void lane_port_s::post(const lane_event_t &ev, bool reserved) {
  std::lock_guard lk(mu_);
  if (reserved) {
    --reserved_;
  } else if (!closed_) {
    grow_locked(count_ + reserved_ + 1);
  }
  if (closed_) return;
  ring_[(head_ + count_) % ring_.size()] = ev;
  ++count_;
  signal_locked();
  cv_.notify_one();
}

std::int32_t lane_port_s::poll(unsigned char *out, std::int32_t max, std::size_t stride, std::size_t copy,
                             std::int64_t timeout_ns) {
  std::unique_lock lk(mu_);
  auto ready = [&] { return count_ != 0 || woken_; };
  if (timeout_ns != 0) lane::exec::wait_ns(cv_, lk, timeout_ns, ready);
  woken_ = false;
  std::int32_t n = 0;
  while (n < max && count_ != 0) {
    lane_event_t ev = ring_[head_];
    head_ = (head_ + 1) % ring_.size();
    --count_;
    unsigned char *dst = out + static_cast<std::size_t>(n) * stride;
    ev.struct_size = static_cast<std::uint32_t>(stride);  // every element has the caller's size
    std::memcpy(dst, &ev, copy);
    if (stride > copy) std::memset(dst + copy, 0, stride - copy);  // a newer host's fields: not reported
    ++n;
  }
  if (count_ == 0) drain_locked();
  return n;
}

void lane_port_s::wake() {
  std::lock_guard lk(mu_);
  woken_ = true;
  signal_locked();
  cv_.notify_all();
}

bool lane_port_s::close_by_host() {
  {
    std::lock_guard lk(mu_);
    if (magic.exchange(0, std::memory_order_relaxed) != kMagic) return false;  // destroyed already
    closed_ = true;
    count_ = 0;
    head_ = 0;
    woken_ = true;
    cv_.notify_all();
  }
  release();
  return true;
}

void lane_port_s::release() {
  if (refs.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
}
