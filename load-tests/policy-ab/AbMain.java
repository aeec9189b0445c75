import com.sun.management.ThreadMXBean;
import java.lang.management.ManagementFactory;

/**
 * Base (package io.portcullis.policybase, an older commit renamed by ../policy-ab.sh) and new (io.portcullis.policy,
 * this tree) decide the same 1,024-request mix in ONE JVM, alternating every 20 passes (order swapped each round), so
 * that both see the same machine load, cache pollution and JIT state. Prints p50/p90/p99 of the per-call time
 * (System.nanoTime around each call: both sides pay the same timer cost), allocation and thread CPU time per decision,
 * and p50 by request kind.
 */
public class AbMain {
  static final int KINDS = 6;
  static final int PASSES = 20;

  public static void main(String[] args) throws Exception {
    int rounds = Integer.parseInt(args[0]);
    io.portcullis.policybase.AbAdapter.setup();
    io.portcullis.policy.AbAdapter.setup();
    int[][] none = new int[KINDS][1];
    for (int w = 0; w < 2000; w++) {
      io.portcullis.policybase.AbAdapter.pass(none, w * 7, false);
      io.portcullis.policy.AbAdapter.pass(none, w * 7, false);
    }
    ThreadMXBean tm = (ThreadMXBean) ManagementFactory.getThreadMXBean();
    long tid = Thread.currentThread().getId();
    int[][][] h = new int[2][KINDS][10_000];
    long[] alloc = new long[2], cpu = new long[2];
    for (int r = 0; r < rounds; r++) {
      for (int step = 0; step < 2; step++) {
        int side = step ^ (r & 1);
        long m0 = tm.getThreadAllocatedBytes(tid), c0 = tm.getCurrentThreadCpuTime();
        for (int p = 0; p < PASSES; p++) {
          if (side == 0) {
            io.portcullis.policybase.AbAdapter.pass(h[0], r * 131 + p, true);
          } else {
            io.portcullis.policy.AbAdapter.pass(h[1], r * 131 + p, true);
          }
        }
        cpu[side] += tm.getCurrentThreadCpuTime() - c0;
        alloc[side] += tm.getThreadAllocatedBytes(tid) - m0;
      }
    }
    long ops = (long) rounds * PASSES * 1024;
    String[] names = {"base", "new"};
    for (int side = 0; side < 2; side++) {
      int[] all = new int[10_000];
      for (int[] k : h[side]) {
        for (int i = 0; i < all.length; i++) {
          all[i] += k[i];
        }
      }
      System.out.printf("%-4s mix: p50 %d ns, p90 %d, p99 %d, p99.9 %d; %.1f B/op; thread CPU %.0f ns/op (incl. 2 nanoTime)%n",
          names[side], pct(all, 0.5), pct(all, 0.9), pct(all, 0.99), pct(all, 0.999), (double) alloc[side] / ops,
          (double) cpu[side] / ops);
    }
    for (int k = 0; k < KINDS; k++) {
      System.out.printf("  %-14s p50 base %d ns, new %d ns; p90 base %d, new %d%n", io.portcullis.policy.AbAdapter.kindName(k),
          pct(h[0][k], 0.5), pct(h[1][k], 0.5), pct(h[0][k], 0.9), pct(h[1][k], 0.9));
    }
  }

  static int pct(int[] h, double q) {
    long total = 0;
    for (int c : h) {
      total += c;
    }
    long want = (long) Math.ceil(q * total), seen = 0;
    for (int i = 0; i < h.length; i++) {
      seen += h[i];
      if (seen >= want) {
        return i * 10;
      }
    }
    return -1;
  }
}
