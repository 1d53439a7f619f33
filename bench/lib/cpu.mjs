/**
 * Where the CPU went during a measured run, from Linux's /proc: how busy the machine was, how
 * many cores the server process used, and how its main thread spent the run (running, or ready
 * to run but waiting for a core). Where /proc cannot be read, `stop` returns undefined.
 */
import { readFileSync } from 'node:fs';

function snapshot(pid) {
  try {
    const lines = readFileSync('/proc/stat', 'utf8').split('\n');
    // user nice system idle iowait irq softirq steal (guest time is already counted in user and nice)
    const cpu = (lines[0] ?? '').trim().split(/\s+/).slice(1, 9).map(Number);
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const [run, wait] = readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'utf8').split(' ').map(Number);
    return {
      wallNs: Number(process.hrtime.bigint()),
      cores: lines.filter((l) => /^cpu\d/.test(l)).length,
      // In clock ticks, summed over all cores: everything, idle (idle + iowait), and the process (user + system).
      total: cpu.reduce((a, b) => a + b, 0),
      idle: (cpu[3] ?? 0) + (cpu[4] ?? 0),
      process: Number(fields[11]) + Number(fields[12]),
      runNs: run,
      waitNs: wait,
    };
  } catch {
    return undefined;
  }
}

/** A probe of process `pid`: `start()` before the run, `stop()` after it returns the figures. */
export function cpuProbe(pid) {
  let before;
  return {
    start() {
      before = snapshot(pid);
    },
    stop() {
      const after = snapshot(pid);
      if (!before || !after || after.total <= before.total) return undefined;
      const ticks = after.total - before.total;
      const wall = after.wallNs - before.wallNs;
      const pct = (x) => Math.min(100, Math.max(0, Math.round(x * 100)));
      return {
        machineBusyPct: pct(1 - (after.idle - before.idle) / ticks),
        // The process's ticks as a share of all cores' ticks, times the number of cores.
        serverCores: Math.round(((after.process - before.process) / ticks) * after.cores * 100) / 100,
        mainRunningPct: pct((after.runNs - before.runNs) / wall),
        mainWaitingPct: pct((after.waitNs - before.waitNs) / wall),
      };
    },
  };
}
