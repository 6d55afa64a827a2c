//! Peak memory of reading the far-cells workbook of issue 12 (cells A1 and XFD1048576 only),
//! which made the server allocate rows × columns (24 GB RSS). Its own test binary, so that the
//! process's high-water mark (`VmHWM` in /proc/self/status) is this test's alone.

use casemix_io::*;

/// Peak resident set size of this process in KiB (Linux), `None` elsewhere.
fn vm_hwm_kib() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[test]
fn far_cells_workbook_peak_memory_stays_small() {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    ws.write_string(0, 0, "list_id").unwrap();
    ws.write_string(1_048_575, 16_383, "x").unwrap();
    let bytes = wb.save_to_buffer().unwrap();
    let before = vm_hwm_kib();

    // default limits: refused at the far cell's column
    let e = read_settlements_from_bytes(&bytes, Some(Format::Xlsx), &ReadOptions::default()).unwrap_err();
    assert!(matches!(e, IoError::Limit { limit: "max_columns", .. }), "{e}");
    // even with the column limit lifted past XFD, the file is two cells, not a grid
    let mut opts = ReadOptions::default();
    opts.limits.max_columns = 1 << 20;
    let (lists, rej) = read_settlements_from_bytes(&bytes, Some(Format::Xlsx), &opts).unwrap();
    assert_eq!((lists.len(), rej.len()), (0, 1));

    let (Some(before), Some(after)) = (before, vm_hwm_kib()) else {
        eprintln!("VmHWM not available on this system; memory not measured");
        return;
    };
    let growth = after.saturating_sub(before);
    eprintln!("far-cells workbook ({} bytes): VmHWM {before} KiB → {after} KiB (+{growth} KiB)", bytes.len());
    // a rows × columns grid of empty cells would be 1,048,576 × 16,384 × 24 bytes ≈ 384 GiB;
    // the streamed sheet needs a few KiB plus one row of 16,384 empty fields
    assert!(growth < 64 * 1024, "peak memory grew by {growth} KiB");
}
