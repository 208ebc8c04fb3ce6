#include "errors.h"

#include <errno.h>
#include <string.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace csm {
namespace {

absl::StatusCode CodeFor(int err) {
  switch (err) {
    case EINVAL: return absl::StatusCode::kInvalidArgument;
    case ENOENT: case ESRCH: return absl::StatusCode::kNotFound;
    case EKEYREVOKED: case EIDRM: case ENOLINK: case EBUSY: case EALREADY:
      return absl::StatusCode::kFailedPrecondition;
    case EACCES: case EPERM: return absl::StatusCode::kPermissionDenied;
    case EEXIST: return absl::StatusCode::kAlreadyExists;
    case ENOSPC: case ENOMEM: return absl::StatusCode::kResourceExhausted;
    case E2BIG: return absl::StatusCode::kOutOfRange;
    case ETIMEDOUT: return absl::StatusCode::kDeadlineExceeded;
    case EOPNOTSUPP: case ENOTTY: return absl::StatusCode::kUnimplemented;
    default: return absl::StatusCode::kInternal;
  }
}

std::string OpName(Op op) {
  switch (op) {
    case Op::kVersion: return "version query";
    case Op::kRealm: return "realm query";
    case Op::kCreate: return "create region";
    case Op::kShare: return "share";
    case Op::kRevoke: return "revoke";
    case Op::kDestroy: return "destroy";
    case Op::kAttach: return "attach";
    case Op::kDetach: return "detach";
    case Op::kRegionInfo: return "region info";
    case Op::kListRegions: return "list regions";
    case Op::kListShares: return "list shares";
    case Op::kAttest: return "attest";
    case Op::kDoorbell: return "doorbell";
    case Op::kRing: return "ring";
    case Op::kEvents: return "event stream";
    case Op::kMap: return "map";
  }
  return "operation";
}

bool ShareOp(Op op) { return op == Op::kAttach || op == Op::kDetach || op == Op::kRevoke; }

std::string Message(int err, const OpContext& c) {
  const bool share_op = ShareOp(c.op);
  switch (err) {
    case ENOENT:
      if (c.op == Op::kDetach) {
        return absl::StrFormat("share %s is not attached by realm %s", c.share, c.self);
      }
      return share_op ? absl::StrFormat("share %s does not exist", c.share)
                      : absl::StrFormat("region %s does not exist", c.region);
    case EKEYREVOKED:
      return absl::StrFormat("share %s was revoked", c.share);
    case EIDRM:
      return share_op ? absl::StrFormat("share %s ended: its region was destroyed", c.share)
                      : absl::StrFormat("region %s was destroyed", c.region);
    case ENOLINK:
      return share_op
                 ? absl::StrFormat("share %s ended: a realm it joined is gone", c.share)
                 : absl::StrFormat("region %s is gone: its provider realm ended", c.region);
    case ESRCH:
      if (c.op == Op::kDoorbell || c.op == Op::kRing) {
        return absl::StrFormat("realm %s is not a party to region %s", c.peer, c.region);
      }
      return absl::StrFormat("realm %s does not exist (no live realm has that ID)", c.peer);
    case EACCES:
      switch (c.op) {
        case Op::kAttach:
          return absl::StrFormat("share %s was granted to another realm, not to realm %s",
                                 c.share, c.self);
        case Op::kRevoke:
          return absl::StrFormat("share %s is of a region realm %s does not provide", c.share,
                                 c.self);
        case Op::kMap:
          return absl::StrFormat("region %s is shared read-only; it cannot be mapped writable",
                                 c.region);
        default:
          return absl::StrFormat("realm %s is not a party to region %s", c.self, c.region);
      }
    case EPERM:
      if (c.op == Op::kAttach) {
        return absl::StrFormat(
            "realm %s provides the region of share %s; a provider cannot attach its own region",
            c.self, c.share);
      }
      return absl::StrFormat("realm %s only consumes region %s; only its provider may %s",
                             c.self, c.region, OpName(c.op));
    case EBUSY:
      return absl::StrFormat(
          "region %s still has live shares; revoke them first or destroy with force", c.region);
    case EEXIST:
      if (c.op == Op::kShare) {
        return absl::StrFormat("region %s is already shared with realm %s", c.region, c.peer);
      }
      return absl::StrFormat("share %s is already attached by realm %s", c.share, c.self);
    case EALREADY:
      return c.op == Op::kRevoke ? absl::StrFormat("share %s is already revoked", c.share)
                                 : absl::StrFormat("region %s is already ending", c.region);
    case ENOSPC:
      return absl::StrFormat("%s: the backend's table is full", OpName(c.op));
    case ENOMEM:
      return absl::StrFormat("%s: out of memory for a region of %d bytes", OpName(c.op), c.size);
    case E2BIG:
      return absl::StrFormat("region size %d exceeds the backend's maximum", c.size);
    case ETIMEDOUT:
      return absl::StrFormat(
          "share %s is revoked, but its consumer did not confirm unmapping in time; that "
          "process may keep its mapping until it next runs (simulator limit)",
          c.share);
    case ECHILD:
      return "this Device was opened by the parent process; open a new Device after fork()";
    case EINVAL:
      if (c.op == Op::kCreate) {
        if (c.size == 0) return "region size must be nonzero";
        if (c.size % 4096 != 0) {
          return absl::StrFormat("region size %d is not a multiple of 4096", c.size);
        }
      }
      if (c.op == Op::kAttach && c.size != 0) {
        return absl::StrFormat(
            "share %s: expected size %d does not match the region's size", c.share, c.size);
      }
      return absl::StrFormat("%s: invalid argument", OpName(c.op));
    default:
      return absl::StrFormat("%s failed: %s", OpName(c.op), strerror(err));
  }
}

}  // namespace

absl::Status CallError(int err, const OpContext& ctx) {
  return absl::Status(CodeFor(err), Message(err, ctx));
}

}  // namespace csm
