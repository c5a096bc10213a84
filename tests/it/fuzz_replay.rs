//! The fuzz targets on stable, under `cargo test`: every file of the
//! committed corpus (`fuzz/corpus/<target>/`) and deterministic mutations of
//! it (bit flips, interesting bytes, inserts, deletes, splices) go through
//! the same target functions libFuzzer runs (`fuzz/src/lib.rs`, included
//! here). A panic names the target and writes the input to
//! `target/fuzz-replay/<target>-failure` for `cargo fuzz run <target> <file>`.
//! Run it alone: `cargo test --test it fuzz_replay::`.
//!
//! `FUZZ_REPLAY_MUTATIONS` (default 400) mutations per target, and at most
//! `FUZZ_REPLAY_SECS` (default 6) seconds per target. The mutations are the
//! same every run unless `FUZZ_REPLAY_SEED` picks others (the hardening
//! stage passes a fresh one and prints it).

#[allow(dead_code)]
#[path = "../../fuzz/src/lib.rs"]
mod targets;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// A small deterministic PRNG (xorshift64*): the same mutations every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

const INTERESTING: &[u8] = b"\x00\xff\x7f{}[]\"\\%&=+@\n\r \t:,0-9e.";

fn mutate(rng: &mut Rng, input: &[u8], corpus: &[Vec<u8>]) -> Vec<u8> {
    let mut out = input.to_vec();
    for _ in 0..1 + rng.below(4) {
        let len = out.len();
        match rng.below(7) {
            0 if len > 0 => {
                let i = rng.below(len);
                out[i] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let i = rng.below(len);
                out[i] = INTERESTING[rng.below(INTERESTING.len())];
            }
            2 => {
                let i = rng.below(len + 1);
                out.insert(i, INTERESTING[rng.below(INTERESTING.len())]);
            }
            3 if len > 1 => {
                let i = rng.below(len);
                let n = 1 + rng.below((len - i).min(16));
                out.drain(i..i + n);
            }
            4 if len > 1 => {
                let i = rng.below(len);
                let n = 1 + rng.below((len - i).min(32));
                let copy = out[i..i + n].to_vec();
                let at = rng.below(len + 1);
                out.splice(at..at, copy);
            }
            5 if !corpus.is_empty() => {
                let other = &corpus[rng.below(corpus.len())];
                let cut = rng.below(len + 1);
                let from = rng.below(other.len() + 1);
                out.truncate(cut);
                out.extend_from_slice(&other[from..]);
            }
            _ => {
                out.truncate(rng.below(len + 1));
            }
        }
    }
    out
}

fn corpus(target: &str) -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let inputs: Vec<Vec<u8>> = files.iter().map(|p| std::fs::read(p).unwrap()).collect();
    assert!(
        inputs.len() >= 10,
        "{}: the seed corpus is missing ({} files)",
        dir.display(),
        inputs.len()
    );
    inputs
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn replay(target: &str, run: fn(&[u8])) {
    let inputs = corpus(target);
    let mutations = env_number("FUZZ_REPLAY_MUTATIONS", 400);
    let budget = Duration::from_secs(env_number("FUZZ_REPLAY_SECS", 6));
    let start = Instant::now();
    let seed = env_number("FUZZ_REPLAY_SEED", 0x9E37_79B9_7F4A_7C15);
    // xorshift needs a non-zero state.
    let mut rng = Rng((seed ^ target.len() as u64) | 1);
    let seeds = inputs.iter().cloned();
    let mutated = (0..mutations).map(|_| {
        let base = &inputs[rng.below(inputs.len())];
        mutate(&mut rng, base, &inputs)
    });
    let mut ran = 0u64;
    for input in seeds.chain(mutated) {
        let outcome = std::panic::catch_unwind(|| run(&input));
        if outcome.is_err() {
            let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/fuzz-replay");
            let _ = std::fs::create_dir_all(&dir);
            let file = dir.join(format!("{target}-failure"));
            let _ = std::fs::write(&file, &input);
            panic!(
                "{target} panicked on input #{ran} ({} bytes, saved to {}): {:?}",
                input.len(),
                file.display(),
                String::from_utf8_lossy(&input[..input.len().min(200)])
            );
        }
        ran += 1;
        if start.elapsed() > budget && ran > inputs.len() as u64 {
            break;
        }
    }
    eprintln!(
        "{target}: {ran} inputs ({} from the corpus, seed {seed}) in {:.1} s",
        inputs.len(),
        start.elapsed().as_secs_f64()
    );
}

#[test]
fn token_request_never_panics() {
    replay("token_request", targets::token_request);
}

#[test]
fn oauth_form_never_panics() {
    replay("oauth_form", targets::oauth_form);
}

#[test]
fn users_config_never_panics() {
    replay("users_config", targets::users_config);
}

#[test]
fn peer_jwks_never_panics_and_bounds_what_it_logs() {
    replay("peer_jwks", targets::peer_jwks);
}
