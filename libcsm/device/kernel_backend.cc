// The /dev/csm backend: each Backend call is the ioctl or mmap itself.
#include <errno.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "csm/backend.h"

namespace csm {
namespace {

class KernelBackend final : public Backend {
 public:
  KernelBackend(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  ~KernelBackend() override { close(fd_); }

  int Call(unsigned long cmd, void* arg) override {
    int rc;
    do {
      rc = ioctl(fd_, cmd, arg);
    } while (rc < 0 && errno == EINTR);
    return rc < 0 ? -errno : 0;
  }

  int Map(uint64_t mmap_offset, std::size_t size, int prot, void** addr) override {
    void* p = mmap(nullptr, size, prot, MAP_SHARED, fd_, static_cast<off_t>(mmap_offset));
    if (p == MAP_FAILED) return -errno;
    *addr = p;
    return 0;
  }

  int Unmap(void* addr, std::size_t size) override {
    return munmap(addr, size) == 0 ? 0 : -errno;
  }

  std::string Where() const override { return path_; }

 private:
  int fd_;
  std::string path_;
};

}  // namespace

absl::StatusOr<std::shared_ptr<Backend>> OpenKernelBackend(const std::string& path) {
  int fd = open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("cannot open ", path,
                                                   " (is the csm module loaded?)"));
  }
  return std::shared_ptr<Backend>(std::make_shared<KernelBackend>(fd, path));
}

}  // namespace csm
