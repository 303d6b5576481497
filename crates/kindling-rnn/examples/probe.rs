use std::time::Instant;
use kindling_core::BackendKind;
use kindling_core::burn::tensor::{Distribution, Tensor};
use kindling_rnn::{LstmConfig};
fn main() {
    let device = BackendKind::Flex.device().unwrap().autodiff();
    let (b, l, d, h) = (50, 20, 300, 150);
    let layer = LstmConfig::new(d, h).with_bidirectional(true).init(&device).unwrap();
    let lengths: Vec<usize> = (0..b).map(|i| 14 + i % 7).collect();
    for rep in 0..6 {
        let x = Tensor::<3>::random([b, l, d], Distribution::Default, &device).require_grad();
        let t = Instant::now();
        let (out, _) = layer.forward(x, Some(&lengths), None).unwrap();
        let loss = out.max_dim(1).sum();
        let f = t.elapsed();
        let _g = loss.backward();
        let tot = t.elapsed();
        let toks: usize = lengths.iter().sum();
        println!("rep {rep}: fwd {:?} total {:?} -> {:.0} tokens/s", f, tot, toks as f64 / tot.as_secs_f64());
    }
}
