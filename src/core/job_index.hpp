// A lane's live jobs by token and by id, with no allocation per job.
//
// A token names a slot of a slab (low 32 bits: the slot; high 32 bits: the
// slot's generation, bumped each time the slot is freed, so a stale token
// never finds the next job in that slot). The id index is an open-addressing
// table (linear probing, backward-shift deletion, no tombstones) whose
// entries hold the job pointer and the id's 32-bit hash: a lookup by id
// reads one table line and then the job (to compare the id), two dependent
// memory accesses, which is what a cancel deep in a queue far larger than
// the caches pays for. Both arrays grow by doubling; the table also shrinks
// when it is mostly empty, the slab keeps its peak (8 + 8 bytes per slot)
// and reuses freed slots first.
#pragma once

#include <cstdint>
#include <new>
#include <string_view>
#include <vector>

#include "job.hpp"

namespace lane::core {

class JobIndex {
 public:
  // Registers a job whose id is not yet live; returns its token (never 0).
  std::uint64_t add(Job *job) {
    // Room first: nothing is half-registered if an allocation throws.
    if (count_ + 1 > (table_.size() / 4) * 3) rehash(table_.empty() ? kMinTable : table_.size() * 2);
    if (slots_.empty()) slots_.reserve(kMinTable / 2);
    std::uint32_t slot;
    if (free_ != kNone) {
      slot = free_;
      free_ = slots_[slot].next_free;
    } else {
      slot = static_cast<std::uint32_t>(slots_.size());
      slots_.push_back(Slot{});
    }
    Slot &s = slots_[slot];
    s.job = job;
    s.next_free = kNone;
    insert_entry(Entry{job, hash_of(job->id)});
    ++count_;
    return (static_cast<std::uint64_t>(s.gen) << 32) | slot;
  }

  // Forgets a job registered with add (by its token and id).
  void remove(const Job *job) {
    const auto slot = static_cast<std::uint32_t>(job->token & 0xffffffffu);
    const std::uint32_t h = hash_of(job->id);
    const std::size_t mask = table_.size() - 1;
    std::size_t i = h & mask;
    while (table_[i].job != job) i = (i + 1) & mask;
    erase_at(i);
    --count_;
    Slot &s = slots_[slot];
    s.job = nullptr;
    s.gen = s.gen == UINT32_MAX ? 1 : s.gen + 1;
    s.next_free = free_;
    free_ = slot;
    if (table_.size() > 1024 && count_ < table_.size() / 8) {
      try {
        rehash(table_.size() / 2);
      } catch (const std::bad_alloc &) {
        // Shrinking is optional: the table stays as large as it was.
      }
    }
  }

  [[nodiscard]] Job *by_token(std::uint64_t token) const {
    const auto slot = static_cast<std::uint32_t>(token & 0xffffffffu);
    const auto gen = static_cast<std::uint32_t>(token >> 32);
    if (slot >= slots_.size() || slots_[slot].gen != gen) return nullptr;
    return slots_[slot].job;
  }

  [[nodiscard]] Job *by_id(std::string_view id) const {
    if (count_ == 0) return nullptr;
    const std::uint32_t h = hash_of(id);
    const std::size_t mask = table_.size() - 1;
    for (std::size_t i = h & mask; table_[i].job != nullptr; i = (i + 1) & mask) {
      if (table_[i].hash == h && table_[i].job->id == id) return table_[i].job;
    }
    return nullptr;
  }

  [[nodiscard]] std::size_t size() const { return count_; }

 private:
  static constexpr std::uint32_t kNone = UINT32_MAX;
  // A lane's first 48 live jobs never grow the index (1 KiB, allocated with
  // the first job): small lanes keep a fixed footprint whatever their load.
  static constexpr std::size_t kMinTable = 64;

  struct Slot {
    Job *job = nullptr;
    std::uint32_t gen = 1;
    std::uint32_t next_free = kNone;
  };
  struct Entry {
    Job *job = nullptr;  // nullptr = empty
    std::uint32_t hash = 0;
  };

  // FNV-1a, then a final mix so the low bits (the home position) depend on
  // every byte: ids are often a shared prefix plus a counter.
  static std::uint32_t hash_of(std::string_view s) {
    std::uint64_t h = 0xcbf29ce484222325ull;
    for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ull;
    h ^= h >> 29;
    h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 32;
    return static_cast<std::uint32_t>(h);
  }

  void insert_entry(Entry e) {
    const std::size_t mask = table_.size() - 1;
    std::size_t i = e.hash & mask;
    while (table_[i].job != nullptr) i = (i + 1) & mask;
    table_[i] = e;
  }

  // Backward-shift deletion: later entries of the same probe run move up
  // so that lookups can stop at the first empty entry.
  void erase_at(std::size_t i) {
    const std::size_t mask = table_.size() - 1;
    std::size_t j = i;
    for (;;) {
      j = (j + 1) & mask;
      if (table_[j].job == nullptr) break;
      const std::size_t home = table_[j].hash & mask;
      // Move j into the hole at i unless its home lies cyclically in (i, j].
      const bool stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
      if (stays) continue;
      table_[i] = table_[j];
      i = j;
    }
    table_[i] = Entry{};
  }

  void rehash(std::size_t n) {
    std::vector<Entry> old(n, Entry{});  // the new table; if it cannot be had, nothing changed
    old.swap(table_);
    for (const Entry &e : old) {
      if (e.job != nullptr) insert_entry(e);
    }
  }

  std::vector<Slot> slots_;
  std::vector<Entry> table_;
  std::uint32_t free_ = kNone;
  std::size_t count_ = 0;
};

}  // namespace lane::core
