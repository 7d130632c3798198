//! ISO 4217 currency codes in current use, lowercase and sorted.

/// Active ISO 4217 alphabetic codes (lowercase), sorted for binary search.
pub const ISO_4217: [&str; 155] = [
    "aed", "afn", "all", "amd", "ang", "aoa", "ars", "aud", "awg", "azn", "bam", "bbd", "bdt",
    "bgn", "bhd", "bif", "bmd", "bnd", "bob", "brl", "bsd", "btn", "bwp", "byn", "bzd", "cad",
    "cdf", "chf", "clp", "cny", "cop", "crc", "cup", "cve", "czk", "djf", "dkk", "dop", "dzd",
    "egp", "ern", "etb", "eur", "fjd", "fkp", "gbp", "gel", "ghs", "gip", "gmd", "gnf", "gtq",
    "gyd", "hkd", "hnl", "htg", "huf", "idr", "ils", "inr", "iqd", "irr", "isk", "jmd", "jod",
    "jpy", "kes", "kgs", "khr", "kmf", "kpw", "krw", "kwd", "kyd", "kzt", "lak", "lbp", "lkr",
    "lrd", "lsl", "lyd", "mad", "mdl", "mga", "mkd", "mmk", "mnt", "mop", "mru", "mur", "mvr",
    "mwk", "mxn", "myr", "mzn", "nad", "ngn", "nio", "nok", "npr", "nzd", "omr", "pab", "pen",
    "pgk", "php", "pkr", "pln", "pyg", "qar", "ron", "rsd", "rub", "rwf", "sar", "sbd", "scr",
    "sdg", "sek", "sgd", "shp", "sle", "sos", "srd", "ssp", "stn", "svc", "syp", "szl", "thb",
    "tjs", "tmt", "tnd", "top", "try", "ttd", "twd", "tzs", "uah", "ugx", "usd", "uyu", "uzs",
    "ves", "vnd", "vuv", "wst", "xaf", "xcd", "xof", "xpf", "yer", "zar", "zmw", "zwl",
];

/// Parses a currency code: three letters of an active ISO 4217 code, any case; lowercase out.
pub fn currency(raw: &str) -> Result<String, String> {
    let c = raw.trim().to_ascii_lowercase();
    if c.len() == 3 && ISO_4217.binary_search(&c.as_str()).is_ok() {
        Ok(c)
    } else {
        Err("must be an ISO 4217 currency code such as \"usd\" or \"brl\"".into())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn sorted_and_parsed() {
        assert!(super::ISO_4217.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(super::currency("USD").as_deref(), Ok("usd"));
        assert!(super::currency("usdt").is_err());
        assert!(super::currency("xyz").is_err());
    }
}
