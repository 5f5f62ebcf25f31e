#include "util/random.hpp"

#include "util/error.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/random.h>
#include <unistd.h>
#include <vector>

namespace stove {

namespace {

// Returns how many bytes /dev/urandom gave; sets errno when short.
std::size_t read_urandom(unsigned char* out, std::size_t size) {
  int fd = ::open("/dev/urandom", O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return 0;
  }
  std::size_t done = 0;
  while (done < size) {
    ssize_t got = ::read(fd, out + done, size - done);
    if (got > 0) {
      done += static_cast<std::size_t>(got);
    } else if (got < 0 && errno == EINTR) {
      continue;
    } else {
      if (got == 0) {
        errno = EIO;
      }
      break;
    }
  }
  int saved = errno;
  ::close(fd);
  errno = saved;
  return done;
}

} // namespace

void fill_random(void* buffer, std::size_t size) {
  auto* out = static_cast<unsigned char*>(buffer);
  std::size_t done = 0;
  while (done < size) {
    ssize_t got = ::getrandom(out + done, size - done, 0);
    if (got > 0) {
      done += static_cast<std::size_t>(got);
    } else if (got < 0 && errno == EINTR) {
      continue;
    } else {
      break;
    }
  }
  if (done == size) {
    return;
  }
  // Old kernels or seccomp filters may refuse getrandom(2).
  if (read_urandom(out, size) == size) {
    return;
  }
  throw Error(ErrorKind::internal,
              fmt::format("cannot get random bytes: {}", std::strerror(errno)));
}

std::string random_hex(std::size_t bytes) {
  std::vector<unsigned char> raw(bytes);
  fill_random(raw.data(), raw.size());
  static constexpr char k_digits[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(2 * bytes);
  for (unsigned char b : raw) {
    hex.push_back(k_digits[b >> 4]);
    hex.push_back(k_digits[b & 0xf]);
  }
  return hex;
}

} // namespace stove
