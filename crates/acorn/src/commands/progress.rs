//! Progress of a long command on stderr: a bar with rate and ETA on a terminal, otherwise a
//! plain line every few seconds (so logs of scripted runs stay readable).

use std::fmt::Write;
use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};

/// How often a plain progress line is printed when stderr is not a terminal.
const PLAIN_EVERY: Duration = Duration::from_secs(5);

/// Progress of one command; `unit` names what is counted ("rows", "customers").
#[derive(Debug)]
pub struct Progress {
    label: &'static str,
    unit: &'static str,
    total: Option<u64>,
    done: u64,
    started: Instant,
    bar: Option<ProgressBar>,
    last_line: Instant,
}

impl Progress {
    /// Starts reporting; `total` is how many are expected, when known.
    pub fn new(label: &'static str, unit: &'static str, total: Option<u64>) -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let template = match total {
                Some(_) => "{msg} [{elapsed_precise}] {wide_bar} {pos}/{len} {rate} ETA {eta}",
                None => "{msg} [{elapsed_precise}] {spinner} {pos} {rate}",
            };
            let bar = ProgressBar::with_draw_target(total, ProgressDrawTarget::stderr());
            if let Ok(style) = ProgressStyle::with_template(template) {
                bar.set_style(style.with_key(
                    "rate",
                    move |state: &ProgressState, w: &mut dyn Write| {
                        let _ = write!(w, "{:.0} {unit}/s", state.per_sec());
                    },
                ));
            }
            bar.set_message(label);
            bar
        });
        let now = Instant::now();
        Self {
            label,
            unit,
            total,
            done: 0,
            started: now,
            bar,
            last_line: now,
        }
    }

    /// Counts `n` more as done.
    pub fn inc(&mut self, n: u64) {
        self.done += n;
        match &self.bar {
            Some(bar) => bar.inc(n),
            None if self.last_line.elapsed() >= PLAIN_EVERY => {
                self.last_line = Instant::now();
                eprintln!("{}", self.line());
            }
            None => {}
        }
    }

    /// Time since the start.
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// Removes the bar (the caller prints its own summary).
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }

    /// `import: 5000/10000 rows (50%), 2100 rows/s, about 2 s left`.
    fn line(&self) -> String {
        let secs = self.elapsed().as_secs_f64().max(1e-9);
        let rate = self.done as f64 / secs;
        let mut line = format!("{}: {}", self.label, self.done);
        if let Some(total) = self.total.filter(|t| *t > 0) {
            let pct = self.done as f64 * 100.0 / total as f64;
            line.push_str(&format!("/{total} {} ({pct:.0}%)", self.unit));
            line.push_str(&format!(", {rate:.0} {}/s", self.unit));
            if rate > 0.0 {
                let left = total.saturating_sub(self.done) as f64 / rate;
                line.push_str(&format!(", about {left:.0} s left"));
            }
        } else {
            line.push_str(&format!(" {}, {rate:.0} {}/s", self.unit, self.unit));
        }
        line
    }
}
