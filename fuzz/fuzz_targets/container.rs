//! kindling-io's container reader on arbitrary bytes: it must return `Ok` or a format error,
//! never panic, overflow or allocate what the input merely claims. What it accepts must
//! survive a re-encode unchanged.

#![no_main]

use std::path::Path;

use kindling_io::container::{self, FileKind};
use libfuzzer_sys::fuzz_target;

const KIND: FileKind = FileKind::new(*b"KNDLFUZZ", 1);

fuzz_target!(|data: &[u8]| {
    // Most inputs would stop at the magic; give every input the right preamble too, so the
    // fuzzer spends its time on lengths, checksums and the header.
    let mut framed = KIND.magic.to_vec();
    framed.extend_from_slice(&KIND.version.to_le_bytes());
    framed.extend_from_slice(data);
    for bytes in [data.to_vec(), framed] {
        let Ok(file) = container::decode::<serde_json::Value>(bytes, KIND, Path::new("fuzz"))
        else {
            continue;
        };
        let names: Vec<String> = file.names().map(str::to_string).collect();
        let sections: Vec<(&str, &[u8])> = names
            .iter()
            .map(|n| (n.as_str(), file.section(n).expect("listed section")))
            .collect();
        let again = container::encode(KIND, &file.header, &sections).expect("re-encodes");
        let back = container::decode::<serde_json::Value>(again, KIND, Path::new("fuzz"))
            .expect("a re-encoded container reads back");
        assert_eq!(back.header, file.header);
        for (name, bytes) in &sections {
            assert_eq!(back.section(name), Some(*bytes));
        }
    }
});
