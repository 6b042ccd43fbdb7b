//! pcap and pcapng readers over arbitrary files: must never panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use netobs_capture::file::CaptureReader;

fuzz_target!(|data: &[u8]| {
    if let Ok(mut r) = CaptureReader::new(std::io::Cursor::new(data)) {
        while let Ok(Some(rec)) = r.next_record() {
            netobs_capture::wire::walk_ethernet(rec.data);
        }
    }
});
