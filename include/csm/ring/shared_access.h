// Loads and stores of words in memory a peer can write concurrently.
//
// Every access to a shared index, turn or record header goes through these, so
// each read is exactly one load the compiler can neither repeat nor split: a
// value is read once into a private variable, validated, then used (the
// "double fetch" a plain load allows is how hostile peers win elsewhere).
#pragma once

#include <atomic>
#include <cstdint>

namespace csm::shared {

template <typename T>
inline T LoadAcquire(const T* p) {
  return std::atomic_ref<T>(*const_cast<T*>(p)).load(std::memory_order_acquire);
}
template <typename T>
inline T LoadRelaxed(const T* p) {
  return std::atomic_ref<T>(*const_cast<T*>(p)).load(std::memory_order_relaxed);
}
template <typename T>
inline void StoreRelease(T* p, T v) {
  std::atomic_ref<T>(*p).store(v, std::memory_order_release);
}
template <typename T>
inline void StoreRelaxed(T* p, T v) {
  std::atomic_ref<T>(*p).store(v, std::memory_order_relaxed);
}
template <typename T>
inline void StoreSeqCst(T* p, T v) {
  std::atomic_ref<T>(*p).store(v, std::memory_order_seq_cst);
}
template <typename T>
inline T LoadSeqCst(const T* p) {
  return std::atomic_ref<T>(*const_cast<T*>(p)).load(std::memory_order_seq_cst);
}
// Weak CAS: on failure `expected` receives the value seen, loaded with
// acquire ordering (as a fresh LoadAcquire would be).
template <typename T>
inline bool CompareExchangeWeak(T* p, T& expected, T desired) {
  return std::atomic_ref<T>(*p).compare_exchange_weak(
      expected, desired, std::memory_order_acq_rel, std::memory_order_acquire);
}

// Busy-wait hint: lets the sibling hyperthread run and saves power.
inline void CpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield" ::: "memory");
#endif
}

}  // namespace csm::shared
