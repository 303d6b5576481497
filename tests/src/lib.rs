//! Shared fixtures of the workspace integration tests.

use kindling_core::models::DenseExample;
use kindling_core::seed::SeededRng;

/// Linearly separable two-class data in `d` dimensions: points uniform in `[-1, 1]^d`,
/// labelled by the sign of a fixed hyperplane, with points closer than `margin` to it dropped.
pub fn separable(n: usize, d: usize, margin: f32, seed: u64) -> Vec<DenseExample> {
    let mut rng = SeededRng::new(seed);
    let normal: Vec<f32> = (0..d)
        .map(|i| if i % 2 == 0 { 1.0 } else { -0.5 })
        .collect();
    let mut examples = Vec::with_capacity(n);
    while examples.len() < n {
        let x: Vec<f32> = (0..d).map(|_| rng.next_f64() as f32 * 2.0 - 1.0).collect();
        let side: f32 = x.iter().zip(&normal).map(|(a, b)| a * b).sum();
        if side.abs() >= margin {
            examples.push(DenseExample {
                features: x,
                label: u32::from(side > 0.0),
            });
        }
    }
    examples
}

/// A fresh, empty directory under the system temp dir, unique to this process and `name`.
pub fn scratch_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("kindling-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}
