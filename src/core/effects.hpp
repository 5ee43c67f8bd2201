// What the scheduler asks the layer above to carry out after a state change.
// The scheduler itself never runs a job, wakes a thread or calls the host.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <vector>

#include "job.hpp"

namespace lane::core {

struct Effect {
  enum class Kind : std::uint8_t {
    Dispatch,  // the job holds a slot now: run it (or grant it)
    Cancel,    // a running job should stop: job->cancel_cause says why
    Outcome    // the job ended: job->status, job_code, times are final
  };
  Kind kind;
  Job *job;
};

// A list of effects with room for a few inline: most operations produce one
// or two, and the hot path should not allocate for them.
class Effects {
 public:
  void push(Effect::Kind k, Job *j) {
    if (n_ < inline_.size()) {
      inline_[n_++] = Effect{k, j};
    } else {
      more_.push_back(Effect{k, j});
      ++n_;
    }
  }
  // Room for `extra` more pushes without allocating: called before a state
  // change, so an allocation failure leaves the scheduler as it was and a
  // push after the change cannot throw.
  void reserve(std::size_t extra) {
    const std::size_t want = n_ + extra;
    if (want > inline_.size() && want - inline_.size() > more_.capacity()) {
      more_.reserve(std::max(want - inline_.size(), 2 * more_.capacity()));
    }
  }
  [[nodiscard]] std::size_t size() const { return n_; }
  [[nodiscard]] bool empty() const { return n_ == 0; }
  [[nodiscard]] const Effect &operator[](std::size_t i) const {
    return i < inline_.size() ? inline_[i] : more_[i - inline_.size()];
  }
  // Marks an effect as carried out (its job pointer becomes nullptr).
  void done(std::size_t i) { (i < inline_.size() ? inline_[i] : more_[i - inline_.size()]).job = nullptr; }
  void clear() {
    n_ = 0;
    more_.clear();
  }

 private:
  std::array<Effect, 4> inline_{};
  std::vector<Effect> more_;
  std::size_t n_ = 0;
};

}  // namespace lane::core
