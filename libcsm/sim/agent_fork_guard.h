// Keeps the simulator's agent threads still while their process forks.
//
// A forked child inherits every lock as it was at the instant of fork().
// An agent thread inside malloc at that instant leaves the allocator's lock
// held in the child forever (glibc guards its own malloc with atfork
// handlers; the ASan runtime of GCC 12 does not), and the child's first
// allocation deadlocks. Programs that fork after opening the sim backend
// (tests do, and so may users) must not depend on that luck, so each agent
// holds its `busy` mutex whenever it is not blocked in poll(), and a
// pthread_atfork handler takes every registered mutex before fork().
#pragma once

#include <mutex>

namespace csm::sim {

// `busy` must stay registered only while its owner lives.
void RegisterAgentForFork(std::mutex* busy);
void UnregisterAgentForFork(std::mutex* busy);

}  // namespace csm::sim
