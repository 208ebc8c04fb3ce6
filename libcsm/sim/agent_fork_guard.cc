// pthread_atfork handlers that quiesce every sim agent (agent_fork_guard.h).
#include "agent_fork_guard.h"

#include <pthread.h>

#include <algorithm>
#include <vector>

namespace csm::sim {
namespace {

struct Registry {
  std::mutex mu;  // held from prepare until parent/child: no (un)registering meanwhile
  std::vector<std::mutex*> agents;
};

// Never destroyed: a fork may come after static destructors have started.
Registry& Agents() {
  static Registry* registry = new Registry;
  return *registry;
}

void LockAll() {
  Registry& r = Agents();
  r.mu.lock();
  for (std::mutex* busy : r.agents) busy->lock();
}

// In the child the forking thread is the one that locked, so it may unlock.
void UnlockAll() {
  Registry& r = Agents();
  for (std::mutex* busy : r.agents) busy->unlock();
  r.mu.unlock();
}

}  // namespace

void RegisterAgentForFork(std::mutex* busy) {
  static std::once_flag installed;
  std::call_once(installed, [] { pthread_atfork(LockAll, UnlockAll, UnlockAll); });
  Registry& r = Agents();
  std::lock_guard<std::mutex> lock(r.mu);
  r.agents.push_back(busy);
}

void UnregisterAgentForFork(std::mutex* busy) {
  Registry& r = Agents();
  std::lock_guard<std::mutex> lock(r.mu);
  r.agents.erase(std::remove(r.agents.begin(), r.agents.end(), busy), r.agents.end());
}

}  // namespace csm::sim
