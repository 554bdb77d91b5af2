//! Address ranges (CIDR blocks, IPv4 and IPv6) for policies' locations.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An address range: an address and how many leading bits of it are fixed. A bare
/// address is a range of one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AddressRange {
    network: IpAddr,
    prefix: u8,
}

impl AddressRange {
    /// Whether `ip` is in the range. An IPv4 address written as IPv6 (`::ffff:a.b.c.d`, as
    /// dual-stack servers see IPv4 clients) counts as the IPv4 address.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.network, ip.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                mask(u128::from(u32::from(net)), self.prefix, 32)
                    == mask(u128::from(u32::from(ip)), self.prefix, 32)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                mask(u128::from(net), self.prefix, 128) == mask(u128::from(ip), self.prefix, 128)
            }
            _ => false,
        }
    }
}

/// The leading `prefix` bits of a `width`-bit number.
fn mask(value: u128, prefix: u8, width: u8) -> u128 {
    if prefix == 0 {
        return 0;
    }
    let shift = u32::from(width - prefix);
    (value >> shift) << shift
}

impl FromStr for AddressRange {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        let (address, prefix) = match text.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text, None),
        };
        let network = IpAddr::from_str(address).map_err(|_| {
            format!("\u{201c}{text}\u{201d} is not an address range such as 203.0.113.0/24 or 2001:db8::/32.")
        })?;
        // A bare IPv4 address written as IPv6 is the IPv4 address.
        let network = if prefix.is_none() {
            network.to_canonical()
        } else {
            network
        };
        let width = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => width,
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= width)
                .ok_or_else(|| format!("In \u{201c}{text}\u{201d}, the part after / must be a number from 0 to {width}."))?,
        };
        // The range's first address, whatever was written after the prefix.
        let network = match network {
            IpAddr::V4(v4) => {
                IpAddr::V4((mask(u128::from(u32::from(v4)), prefix, 32) as u32).into())
            }
            IpAddr::V6(v6) => IpAddr::V6(mask(u128::from(v6), prefix, 128).into()),
        };
        Ok(AddressRange { network, prefix })
    }
}

impl fmt::Display for AddressRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

impl Serialize for AddressRange {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for AddressRange {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap_or_else(|_| unreachable!("{text}"))
    }

    fn range(text: &str) -> AddressRange {
        text.parse().unwrap_or_else(|e| unreachable!("{text}: {e}"))
    }

    #[test]
    fn ranges_hold_the_addresses_under_their_prefix() {
        let cases = [
            ("203.0.113.0/24", "203.0.113.7", true),
            ("203.0.113.0/24", "203.0.114.7", false),
            ("203.0.113.9", "203.0.113.9", true),
            ("203.0.113.9", "203.0.113.8", false),
            ("0.0.0.0/0", "198.51.100.1", true),
            ("0.0.0.0/0", "2001:db8::1", false),
            ("2001:db8::/32", "2001:db8:ffff::1", true),
            ("2001:db8::/32", "2001:db9::1", false),
            ("203.0.113.0/24", "::ffff:203.0.113.50", true),
            ("::ffff:203.0.113.0/120", "203.0.113.50", false),
            ("::/0", "::1", true),
        ];
        for (r, address, inside) in cases {
            assert_eq!(range(r).contains(ip(address)), inside, "{r} ∋ {address}");
        }
    }

    #[test]
    fn a_range_is_written_from_its_first_address() {
        assert_eq!(range("203.0.113.77/24").to_string(), "203.0.113.0/24");
        assert_eq!(range("2001:db8::5/32").to_string(), "2001:db8::/32");
        assert_eq!(range(" 10.1.2.3 ").to_string(), "10.1.2.3/32");
        assert_eq!(range("::ffff:10.1.2.3").to_string(), "10.1.2.3/32");
    }

    #[test]
    fn malformed_ranges_are_refused_in_words() {
        for bad in [
            "",
            "10.0.0.0/33",
            "2001:db8::/129",
            "10.0.0/8",
            "intranet",
            "10.0.0.0/-1",
            "10.0.0.0/",
        ] {
            let error = bad
                .parse::<AddressRange>()
                .err()
                .unwrap_or_else(|| unreachable!("{bad}"));
            assert!(error.contains('\u{201c}'), "{bad}: {error}");
        }
    }
}
