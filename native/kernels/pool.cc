// A persistent worker pool: kernels are short, so spawning threads per call would cost
// more than the work. The calling thread runs chunk 0 itself.
#include <cblas.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "kernels.h"

extern "C" void openblas_set_num_threads(int);

namespace peft {
namespace {

class Pool {
 public:
  ~Pool() { resize(0); }

  void resize(int workers) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    wake_.notify_all();
    for (auto& t : threads_) t.join();
    threads_.clear();
    stop_ = false;
    for (int i = 0; i < workers; i++) threads_.emplace_back([this, i] { loop(i + 1); });
  }

  int size() const { return static_cast<int>(threads_.size()) + 1; }

  void run(int chunks, const std::function<void(int)>& fn) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      task_ = &fn;
      chunks_ = chunks;
      pending_ = chunks - 1;
      generation_++;
    }
    wake_.notify_all();
    fn(0);
    std::unique_lock<std::mutex> lock(mu_);
    done_.wait(lock, [this] { return pending_ == 0; });
    task_ = nullptr;
  }

 private:
  void loop(int id) {
    uint64_t seen = 0;
    for (;;) {
      const std::function<void(int)>* task;
      {
        std::unique_lock<std::mutex> lock(mu_);
        wake_.wait(lock, [&] { return stop_ || generation_ != seen; });
        if (stop_) return;
        seen = generation_;
        if (id >= chunks_) continue;
        task = task_;
      }
      (*task)(id);
      std::lock_guard<std::mutex> lock(mu_);
      if (--pending_ == 0) done_.notify_one();
    }
  }

  std::vector<std::thread> threads_;
  std::mutex mu_;
  std::condition_variable wake_, done_;
  const std::function<void(int)>* task_ = nullptr;
  int chunks_ = 0, pending_ = 0;
  uint64_t generation_ = 0;
  bool stop_ = false;
};

Pool& pool() {
  static Pool p;
  return p;
}
int g_threads = 1;

}  // namespace

void set_threads(int n) {
  if (n < 1) n = 1;
  g_threads = n;
  pool().resize(n - 1);
  openblas_set_num_threads(n);
}

int get_threads() { return g_threads; }

void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn) {
  if (n <= 0) return;
  int64_t chunks = std::min<int64_t>(g_threads, (n + grain - 1) / std::max<int64_t>(grain, 1));
  if (chunks <= 1) { fn(0, n); return; }
  const int64_t step = (n + chunks - 1) / chunks;
  pool().run(static_cast<int>(chunks), [&](int c) {
    const int64_t begin = c * step, end = std::min(n, begin + step);
    if (begin < end) fn(begin, end);
  });
}

void parallel_tasks(int64_t tasks, const std::function<void(int64_t)>& fn) {
  if (tasks <= 0) return;
  const int64_t workers = std::min<int64_t>(g_threads, tasks);
  if (workers <= 1) { for (int64_t t = 0; t < tasks; t++) fn(t); return; }
  std::atomic<int64_t> next{0};
  pool().run(static_cast<int>(workers), [&](int) {
    for (int64_t t = next.fetch_add(1); t < tasks; t = next.fetch_add(1)) fn(t);
  });
}

void with_serial_blas(const std::function<void()>& fn) {
  openblas_set_num_threads(1);
  fn();
  openblas_set_num_threads(g_threads);
}

}  // namespace peft
