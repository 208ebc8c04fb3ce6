#include "host_shared.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <utility>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_format.h"

namespace csm::compare {

absl::StatusOr<HostSharedMemory> HostSharedMemory::CreateAnonymous(std::size_t bytes) {
  const int fd = memfd_create("csm-compare-host-shared", MFD_CLOEXEC);
  if (fd < 0) return absl::ErrnoToStatus(errno, "memfd_create");
  absl::Cleanup close_fd = [fd] { close(fd); };
  if (ftruncate(fd, static_cast<off_t>(bytes)) != 0) return absl::ErrnoToStatus(errno, "ftruncate");
  void* addr = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (addr == MAP_FAILED) return absl::ErrnoToStatus(errno, "mmap of the host-shared memfd");
  HostSharedMemory m;
  m.addr_ = addr;
  m.size_ = bytes;
  m.description_ = absl::StrFormat(
      "memfd shared by the two processes, %d bytes (ordinary memory; in a VM deployment the "
      "ivshmem BAR the host can read)", bytes);
  return m;
}

absl::StatusOr<HostSharedMemory> HostSharedMemory::OpenPath(const std::string& path,
                                                            std::size_t bytes, bool create) {
  const int fd = open(path.c_str(), O_RDWR | O_CLOEXEC | (create ? O_CREAT : 0), 0600);
  if (fd < 0) return absl::ErrnoToStatus(errno, absl::StrFormat("--host_mem: cannot open %s", path));
  absl::Cleanup close_fd = [fd] { close(fd); };
  struct stat st;
  if (fstat(fd, &st) != 0) return absl::ErrnoToStatus(errno, absl::StrFormat("fstat %s", path));
  std::size_t have = static_cast<std::size_t>(st.st_size);
  if (S_ISREG(st.st_mode) && create && have < bytes) {
    if (ftruncate(fd, static_cast<off_t>(bytes)) != 0) {
      return absl::ErrnoToStatus(errno, absl::StrFormat("growing %s", path));
    }
    have = bytes;
  }
  if (have < bytes) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "--host_mem: %s holds %d bytes, these sizes need %d", path, have, bytes));
  }
  void* addr = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (addr == MAP_FAILED) return absl::ErrnoToStatus(errno, absl::StrFormat("mmap %s", path));
  HostSharedMemory m;
  m.addr_ = addr;
  m.size_ = bytes;
  m.description_ = absl::StrFormat("%s, %d bytes mapped (memory the host can read)", path, bytes);
  return m;
}

HostSharedMemory::HostSharedMemory(HostSharedMemory&& o) noexcept
    : addr_(std::exchange(o.addr_, nullptr)),
      size_(std::exchange(o.size_, 0)),
      description_(std::move(o.description_)) {}

HostSharedMemory& HostSharedMemory::operator=(HostSharedMemory&& o) noexcept {
  if (this != &o) {
    if (addr_) munmap(addr_, size_);
    addr_ = std::exchange(o.addr_, nullptr);
    size_ = std::exchange(o.size_, 0);
    description_ = std::move(o.description_);
  }
  return *this;
}

HostSharedMemory::~HostSharedMemory() {
  if (addr_) munmap(addr_, size_);
}

}  // namespace csm::compare
