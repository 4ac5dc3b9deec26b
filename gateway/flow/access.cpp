#include "gateway/flow/access.hpp"

namespace gatelab::flow {

const char* toString(AccessPolicy p) noexcept {
  switch (p) {
    case AccessPolicy::kNone: return "none";
    case AccessPolicy::kCors: return "cors";
    case AccessPolicy::kJwt: return "jwt";
    case AccessPolicy::kKeyAuth: return "key_auth";
    case AccessPolicy::kAcl: return "acl";
  }
  return "none";
}

void AccessState::reset() noexcept {
  authRan = false;
  authenticated = false;
  anonymous = false;
  authenticatedBy = AccessPolicy::kNone;
  consumer = nullptr;
  consumerId = {};
  credential = {};
  userId = {};
  scopes = {};
  token.reset();
  claims.clear();
  hide.clear();
  jwtReason.reset();
  keyReason.reset();
  aclReason.reset();
  jwtCacheHit = false;
  cors.reset();
  cache.reset();
  refusedBy = AccessPolicy::kNone;
  reason = {};
  challenges.clear();
  detail.clear();
}

core::auth::Identity AccessState::identity() const noexcept {
  core::auth::Identity id;
  id.consumerId = consumerId;
  if (consumer != nullptr) id.groups = consumer->groups;
  id.credential = credential;
  id.anonymous = anonymous;
  id.userId = userId;
  id.scopes = scopes;
  return id;
}

}  // namespace gatelab::flow
