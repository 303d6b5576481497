//! kindling-core's checkpoint parser on arbitrary bytes: `Ok` or a checkpoint error, never a
//! panic. The input is tried as is and behind a valid preamble, so that lengths, checksums and
//! the header are reached.

#![no_main]

use std::path::Path;

use kindling_core::checkpoint::{Checkpoint, KIND};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut framed = KIND.magic.to_vec();
    framed.extend_from_slice(&KIND.version.to_le_bytes());
    framed.extend_from_slice(data);
    for bytes in [data.to_vec(), framed] {
        if let Ok(checkpoint) = Checkpoint::from_bytes(bytes, Path::new("fuzz.ckpt")) {
            let again = checkpoint.to_bytes().expect("re-encodes");
            let back = Checkpoint::from_bytes(again, Path::new("fuzz.ckpt")).expect("reads back");
            assert_eq!(back.state, checkpoint.state);
            assert_eq!(back.config, checkpoint.config);
        }
    }
});
