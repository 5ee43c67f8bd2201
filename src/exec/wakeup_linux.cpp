// The Linux wake-up: an eventfd whose counter is 1 while set, 0 while clear.
#include "wakeup.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <system_error>

namespace lane::exec {

Wakeup::Wakeup() {
  fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "eventfd");
}

Wakeup::~Wakeup() {
  if (fd_ >= 0) ::close(fd_);
}

void Wakeup::set() {
  std::uint64_t one = 1;
  // A full counter cannot happen: set() only adds 1 while the counter reads 0.
  [[maybe_unused]] ssize_t n = ::write(fd_, &one, sizeof one);
}

void Wakeup::clear() {
  std::uint64_t v = 0;
  [[maybe_unused]] ssize_t n = ::read(fd_, &v, sizeof v);
}

}  // namespace lane::exec
