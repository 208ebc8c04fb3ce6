#include "csm/ring/shared_span.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_format.h"

namespace csm {
namespace {

std::size_t PageBytes() { return static_cast<std::size_t>(sysconf(_SC_PAGESIZE)); }

absl::Status ErrnoStatus(const char* what, int err) {
  return absl::ErrnoToStatus(err, absl::StrFormat("%s: %s", what, std::strerror(err)));
}

}  // namespace

SharedView::SharedView(SharedView&& other) noexcept { *this = std::move(other); }

SharedView& SharedView::operator=(SharedView&& other) noexcept {
  if (this != &other) {
    Reset();
    base_ = std::exchange(other.base_, nullptr);
    mapped_ = std::exchange(other.mapped_, 0);
    span_ = std::exchange(other.span_, {});
  }
  return *this;
}

SharedView::~SharedView() { Reset(); }

void SharedView::Reset() {
  if (base_ != nullptr) munmap(base_, mapped_);
  base_ = nullptr;
  mapped_ = 0;
  span_ = {};
}

absl::StatusOr<SharedFile> SharedFile::Create(std::size_t bytes, const char* name) {
  if (bytes == 0) return absl::InvalidArgumentError("shared file size must be non-zero");
  const std::size_t page = PageBytes();
  const std::size_t size = (bytes + page - 1) / page * page;
  const int fd = memfd_create(name, MFD_CLOEXEC);
  if (fd < 0) return ErrnoStatus("memfd_create", errno);
  if (ftruncate(fd, static_cast<off_t>(size)) != 0) {
    const int err = errno;
    close(fd);
    return ErrnoStatus("ftruncate", err);
  }
  return SharedFile(fd, size);
}

SharedFile::SharedFile(SharedFile&& other) noexcept { *this = std::move(other); }

SharedFile& SharedFile::operator=(SharedFile&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

SharedFile::~SharedFile() {
  if (fd_ >= 0) close(fd_);
}

absl::StatusOr<SharedView> SharedFile::Map(bool guard_pages) const {
  const std::size_t guard = guard_pages ? PageBytes() : 0;
  const std::size_t total = size_ + 2 * guard;
  // Reserve the whole range inaccessible, then map the file over its middle.
  void* base = mmap(nullptr, total, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (base == MAP_FAILED) return ErrnoStatus("mmap reserve", errno);
  auto* bytes = static_cast<std::byte*>(base);
  void* view = mmap(bytes + guard, size_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd_, 0);
  if (view == MAP_FAILED) {
    const int err = errno;
    munmap(base, total);
    return ErrnoStatus("mmap shared file", err);
  }
  SharedView v;
  v.base_ = bytes;
  v.mapped_ = total;
  v.span_ = std::span<std::byte>(bytes + guard, size_);
  return v;
}

}  // namespace csm
