// SimGrid peer of `lakebed simulate` (Scripts/bench-simulate): the same transfer workload, written as a SimGrid
// program. 10 links (platform.xml: SRC-i -> DST-i, 10 GB/s, 1 s latency), N files of 1 GB per link, at most 500 in
// flight per link (500 workers per link take files from that link's queue in order), flow-level max-min sharing
// (SimGrid's CM02 model: no TCP correction factors, no TCP window bound).
// Usage: peer PLATFORM.xml N_FILES_PER_LINK   (prints simulated seconds, transfers, wall seconds)
#include <simgrid/s4u.hpp>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

namespace sg4 = simgrid::s4u;

static constexpr int kLinks = 10;
static constexpr int kConcurrency = 500;
static constexpr uint64_t kFileBytes = 1000000000ULL;  // 1 GB, as Lakebed's `1GB`

struct LinkQueue {
  sg4::Host* src;
  sg4::Host* dst;
  long next = 0;  // the next file to send; workers take from here in order (single-threaded simulation)
  long total = 0;
  long done = 0;
};

static long finished = 0;

static void worker(LinkQueue* q) {
  while (q->next < q->total) {
    q->next++;
    sg4::Comm::sendto(q->src, q->dst, kFileBytes);
    q->done++;
    finished++;
  }
}

int main(int argc, char** argv) {
  sg4::Engine e(&argc, argv);
  sg4::Engine::set_config("network/model:CM02");            // max-min sharing, no correction factors
  sg4::Engine::set_config("network/TCP-gamma:1e18");        // no window bound: a flow's rate is its share
  sg4::Engine::set_config("network/crosstraffic:0");        // no reverse-direction ack traffic
  sg4::Engine::set_config("contexts/stack-size:16");         // 5,000 actors: small stacks
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s PLATFORM.xml N_FILES_PER_LINK\n", argv[0]);
    return 2;
  }
  e.load_platform(argv[1]);
  long n = std::stol(argv[2]);
  std::vector<LinkQueue> queues(kLinks);
  for (int i = 0; i < kLinks; i++) {
    queues[i].src = e.host_by_name("SRC-" + std::to_string(i));
    queues[i].dst = e.host_by_name("DST-" + std::to_string(i));
    queues[i].total = n;
    for (int w = 0; w < kConcurrency; w++)
      sg4::Actor::create("w" + std::to_string(i) + "." + std::to_string(w), queues[i].src, worker, &queues[i]);
  }
  auto t0 = std::chrono::steady_clock::now();
  e.run();
  double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("simulated_seconds %.3f transfers %ld wall_seconds %.3f\n", sg4::Engine::get_clock(), finished, wall);
  return finished == n * kLinks ? 0 : 1;
}
