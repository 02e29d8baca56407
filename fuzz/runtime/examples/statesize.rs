fn main() {
	let config = infera_runtime::genesis_config_presets::preset_config(
		sp_genesis_builder::LOCAL_TESTNET_RUNTIME_PRESET,
	)
	.unwrap();
	use sp_runtime::BuildStorage;
	let s = config.build_storage().unwrap();
	let mut v: Vec<_> =
		s.top.iter().map(|(k, v)| (v.len(), k.len(), hex(&k[..k.len().min(32)]))).collect();
	v.sort();
	let total: usize = v.iter().map(|x| x.0).sum();
	println!("keys {} bytes {}", v.len(), total);
	for x in v.iter().rev().take(15) {
		println!("{x:?}");
	}
}
fn hex(b: &[u8]) -> String {
	b.iter().map(|x| format!("{x:02x}")).collect()
}
