#include "sim_key.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace csm::sim {
namespace {

std::string OpensslError() {
  unsigned long e = ERR_get_error();
  char buf[256];
  ERR_error_string_n(e, buf, sizeof(buf));
  return buf;
}

absl::StatusOr<Pkey> ReadKey(const std::string& key_file) {
  int fd = open(key_file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return absl::ErrnoToStatus(errno, absl::StrCat("opening ", key_file));
  struct stat st;
  if (fstat(fd, &st) != 0 || (st.st_mode & 077) != 0 || st.st_uid != geteuid()) {
    close(fd);
    return absl::PermissionDeniedError(absl::StrFormat(
        "simulator attestation key %s must be owned by us with mode 0600 (has %o)", key_file,
        st.st_mode & 0777));
  }
  FILE* f = fdopen(fd, "r");
  if (f == nullptr) {
    close(fd);
    return absl::ErrnoToStatus(errno, "fdopen");
  }
  EVP_PKEY* key = PEM_read_PrivateKey(f, nullptr, nullptr, nullptr);
  fclose(f);
  if (key == nullptr) {
    return absl::DataLossError(
        absl::StrCat("cannot parse simulator key ", key_file, ": ", OpensslError()));
  }
  return Pkey(key);
}

// Writes a new key to a private temp file and links it into place, so two
// processes racing to create it agree on one key.
absl::Status CreateKey(const std::string& key_file) {
  Pkey key(EVP_EC_gen("P-384"));
  if (!key) return absl::InternalError(absl::StrCat("EC P-384 keygen: ", OpensslError()));
  std::string tmp = absl::StrCat(key_file, ".tmp.", getpid(), ".", gettid());
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return absl::ErrnoToStatus(errno, absl::StrCat("creating ", tmp));
  FILE* f = fdopen(fd, "w");
  if (f == nullptr) {
    close(fd);
    unlink(tmp.c_str());
    return absl::ErrnoToStatus(errno, "fdopen");
  }
  bool ok = PEM_write_PrivateKey(f, key.get(), nullptr, nullptr, 0, nullptr, nullptr) == 1;
  ok = (fflush(f) == 0) && ok;
  fclose(f);
  absl::Status st;
  if (!ok) {
    st = absl::InternalError(absl::StrCat("writing ", tmp, ": ", OpensslError()));
  } else if (link(tmp.c_str(), key_file.c_str()) != 0 && errno != EEXIST) {
    st = absl::ErrnoToStatus(errno, absl::StrCat("publishing ", key_file));
  }
  unlink(tmp.c_str());
  return st;
}

}  // namespace

absl::StatusOr<Pkey> LoadOrCreateSimKey(const std::string& key_file) {
  if (access(key_file.c_str(), F_OK) != 0) {
    if (absl::Status st = CreateKey(key_file); !st.ok()) return st;
  }
  return ReadKey(key_file);
}

}  // namespace csm::sim
