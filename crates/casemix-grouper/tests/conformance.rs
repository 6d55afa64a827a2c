//! Conformance: every row of every file in ../shared/grouper-reference must get exactly the
//! reference (status, mdc, adrg, drg) from the scheme of the same name.

mod common;

use casemix_grouper::Grouper;

#[test]
fn all_reference_files_agree_100_percent() {
    let dir = common::shared_dir().join("grouper-reference");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "csv"))
        .collect();
    files.sort();
    assert!(files.len() >= 27, "expected the 27 reference files, found {}", files.len());
    let mut total = 0usize;
    let mut total_bad = 0usize;
    for f in files {
        let scheme = f.file_stem().unwrap().to_str().unwrap().to_string();
        let g = Grouper::from_dir(common::shared_dir().join("schemes").join(&scheme)).unwrap();
        let rows = common::read_reference(&scheme);
        let mut bad = 0;
        for r in &rows {
            let got = g.group(&r.input());
            let got = [got.status, got.mdc, got.adrg, got.drg];
            if got != [r.expected[0].as_str(), &r.expected[1], &r.expected[2], &r.expected[3]] {
                if bad < 5 {
                    eprintln!("{scheme} {}: got {:?}, expected {:?}", r.id, got, r.expected);
                }
                bad += 1;
            }
        }
        println!("{scheme:16} {:6} rows  {:6} agree  {bad} differ", rows.len(), rows.len() - bad);
        total += rows.len();
        total_bad += bad;
    }
    println!("all schemes: {total} rows, {} agree, {total_bad} differ", total - total_bad);
    assert_eq!(total_bad, 0, "{total_bad} of {total} reference rows differ");
}
