//! What /proc says about a process tree: peak resident memory and CPU time, for a server made
//! of one process (serve-api) or of a master and its workers (nginx).

/// A `/proc/PID/status` field in KiB (`VmRSS:`, `VmHWM:`), 0 when unreadable.
pub fn status_kib(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

/// `/proc/PID/stat` fields after the command name (field 3, the state, is index 0).
fn stat_fields(pid: u32) -> Option<Vec<String>> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &s[s.rfind(')')? + 1..];
    Some(rest.split_whitespace().map(str::to_owned).collect())
}

/// The direct children of `pid` (nginx's workers, for its master).
pub fn children(pid: u32) -> Vec<u32> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut out: Vec<u32> = dir
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&p| {
            stat_fields(p)
                .and_then(|f| f.get(1)?.parse::<u32>().ok())
                .is_some_and(|ppid| ppid == pid)
        })
        .collect();
    out.sort_unstable();
    out
}

/// `pid` and its direct children.
pub fn tree(pid: u32) -> Vec<u32> {
    let mut all = vec![pid];
    all.extend(children(pid));
    all
}

/// CPU time (user + system, all threads) of `pids`, in seconds (Linux's USER_HZ is 100).
pub fn cpu_seconds(pids: &[u32]) -> f64 {
    let ticks: u64 = pids
        .iter()
        .filter_map(|&p| {
            let f = stat_fields(p)?;
            Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
        })
        .sum();
    #[allow(clippy::cast_precision_loss)]
    let secs = ticks as f64 / 100.0;
    secs
}

/// Peak resident memory (`VmHWM`) summed over `pids`, in KiB (shared pages counted per process).
pub fn peak_rss_kib(pids: &[u32]) -> u64 {
    pids.iter().map(|&p| status_kib(p, "VmHWM:")).sum()
}

/// Threads of `pid`.
pub fn threads(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Threads:"))
                .and_then(|n| n.trim().parse().ok())
        })
        .unwrap_or(0)
}

/// CPU seconds the whole machine has spent busy (user, nice, system, irq, softirq; all cores)
/// since boot: with a process's own figures, what everything else took meanwhile.
pub fn machine_busy_seconds() -> f64 {
    let ticks: u64 = std::fs::read_to_string("/proc/stat")
        .ok()
        .and_then(|s| {
            let cpu = s.lines().next()?.strip_prefix("cpu ")?.to_owned();
            let f: Vec<u64> = cpu
                .split_whitespace()
                .filter_map(|n| n.parse().ok())
                .collect();
            // user nice system idle iowait irq softirq …
            Some(f.first()? + f.get(1)? + f.get(2)? + f.get(5)? + f.get(6)?)
        })
        .unwrap_or(0);
    #[allow(clippy::cast_precision_loss)]
    let secs = ticks as f64 / 100.0;
    secs
}
