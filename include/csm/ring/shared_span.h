// Shared memory for rings between processes on one host: a memfd and views of
// it. Each view is a fresh mmap, so two views (or a view made in each process
// after fork) sit at different addresses, as they do between realms. A view
// can be fenced by inaccessible guard pages, so any access just outside the
// span faults at once instead of silently touching a neighbour.
#pragma once

#include <cstddef>
#include <span>

#include "absl/status/statusor.h"

namespace csm {

// One mmap of a shared file; unmapped on destruction.
class SharedView {
 public:
  SharedView() = default;
  SharedView(SharedView&& other) noexcept;
  SharedView& operator=(SharedView&& other) noexcept;
  SharedView(const SharedView&) = delete;
  SharedView& operator=(const SharedView&) = delete;
  ~SharedView();

  std::span<std::byte> span() const { return span_; }

 private:
  friend class SharedFile;
  void Reset();
  std::byte* base_ = nullptr;  // start of the whole mapping, guards included
  std::size_t mapped_ = 0;
  std::span<std::byte> span_;
};

// An anonymous shared file (memfd) of a fixed size; closed on destruction.
// Views stay valid after the file is closed: a mapping keeps its pages.
class SharedFile {
 public:
  // `bytes` is rounded up to whole pages.
  static absl::StatusOr<SharedFile> Create(std::size_t bytes, const char* name = "csm-ring");
  SharedFile(SharedFile&& other) noexcept;
  SharedFile& operator=(SharedFile&& other) noexcept;
  SharedFile(const SharedFile&) = delete;
  SharedFile& operator=(const SharedFile&) = delete;
  ~SharedFile();

  // Maps the whole file read-write at an address of the kernel's choosing;
  // with `guard_pages`, a PROT_NONE page sits on each side of the span.
  absl::StatusOr<SharedView> Map(bool guard_pages = false) const;
  std::size_t size() const { return size_; }
  int fd() const { return fd_; }

 private:
  SharedFile(int fd, std::size_t size) : fd_(fd), size_(size) {}
  int fd_ = -1;
  std::size_t size_ = 0;
};

}  // namespace csm
