//! Which address a request comes from when reverse proxies stand in front of Portico. The
//! address is what the sign-in throttles count and what the audit and sign-in logs record,
//! so a proxy's forwarding header is believed only as far as proxies the operator trusts
//! wrote it: anything to its left may be made up by the client.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

/// A block of addresses, `192.0.2.0/24` or `2001:db8::/32`; a bare address is a block of
/// one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u32,
}

/// The bits of an address, and how many there are.
fn bits(address: IpAddr) -> (u128, u32) {
    match address {
        IpAddr::V4(v4) => (u128::from(u32::from(v4)), 32),
        IpAddr::V6(v6) => (u128::from(v6), 128),
    }
}

impl Cidr {
    pub fn contains(&self, address: IpAddr) -> bool {
        let (network, width) = bits(self.network);
        let (address, address_width) = bits(address.to_canonical());
        // Shifting out the whole width (a /0) leaves nothing to compare.
        width == address_width
            && (network ^ address)
                .checked_shr(width - self.prefix)
                .unwrap_or(0)
                == 0
    }
}

impl FromStr for Cidr {
    type Err = String;

    fn from_str(text: &str) -> Result<Cidr, String> {
        let text = text.trim();
        let (address, prefix) = match text.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text, None),
        };
        let network = address
            .parse::<IpAddr>()
            .map_err(|_| format!("'{text}' is not an address nor a block like 10.0.0.0/8"))?
            .to_canonical();
        let (value, width) = bits(network);
        let prefix = match prefix {
            None => width,
            Some(prefix) => prefix
                .parse::<u32>()
                .ok()
                .filter(|p| *p <= width)
                .ok_or_else(|| format!("'{text}': the prefix length goes from 0 to {width}"))?,
        };
        let host_bits = u128::MAX.checked_shr(128 - (width - prefix)).unwrap_or(0);
        if value & host_bits != 0 {
            return Err(format!(
                "'{text}' has address bits set past its prefix: did you mean the block's first address?"
            ));
        }
        Ok(Cidr { network, prefix })
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

/// The reverse proxies whose forwarding header Portico believes.
#[derive(Clone, Debug, Default)]
pub struct TrustedProxies(Vec<Cidr>);

impl TrustedProxies {
    pub fn new(blocks: Vec<Cidr>) -> TrustedProxies {
        TrustedProxies(blocks)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn trusts(&self, address: IpAddr) -> bool {
        self.0.iter().any(|block| block.contains(address))
    }

    /// The client's address, from the TCP peer and the forwarding chain (the entries of
    /// the forwarding header, oldest first; `None` for one that names no address). A peer
    /// that is not a trusted proxy is the client, whatever it sent. Otherwise the chain is
    /// walked from the right, the entry the nearest proxy wrote, past trusted proxies: the
    /// first address that is not one is the client. An entry that names no address ends the
    /// walk at the proxy that wrote it, since nothing further left can be told from what the
    /// client made up; a chain of trusted proxies only ends at its left-most.
    pub fn client_address(&self, peer: IpAddr, chain: &[Option<IpAddr>]) -> IpAddr {
        let mut client = peer.to_canonical();
        for entry in chain.iter().rev() {
            if !self.trusts(client) {
                break;
            }
            match entry {
                Some(address) => client = address.to_canonical(),
                None => break,
            }
        }
        client
    }
}

/// The forwarding chain of `X-Forwarded-For` header values, in order: `192.0.2.1,
/// 2001:db8::1`. A port after the address is tolerated.
pub fn x_forwarded_for<'a>(values: impl IntoIterator<Item = &'a str>) -> Vec<Option<IpAddr>> {
    values
        .into_iter()
        .flat_map(|value| value.split(','))
        .map(|entry| node_address(entry.trim()))
        .collect()
}

/// The forwarding chain of `Forwarded` header values (RFC 7239), in order: the `for` of
/// each element, as in `for=192.0.2.60;proto=https, for="[2001:db8::17]:4711"`. An
/// element without one, or with an obfuscated or `unknown` one, names no address.
pub fn forwarded<'a>(values: impl IntoIterator<Item = &'a str>) -> Vec<Option<IpAddr>> {
    values
        .into_iter()
        .flat_map(|value| split_outside_quotes(value, ','))
        .map(|element| {
            split_outside_quotes(element, ';')
                .into_iter()
                .filter_map(|pair| pair.split_once('='))
                .find(|(name, _)| name.trim().eq_ignore_ascii_case("for"))
                .and_then(|(_, node)| node_address(node.trim().trim_matches('"')))
        })
        .collect()
}

/// Splits at `separator` where it is not inside a quoted string.
fn split_outside_quotes(text: &str, separator: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut start, mut quoted, mut escaped) = (0, false, false);
    for (at, c) in text.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            c if c == separator && !quoted => {
                parts.push(&text[start..at]);
                start = at + c.len_utf8();
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

/// The address of one node of a chain: `192.0.2.1`, `192.0.2.1:80`, `2001:db8::1` or
/// `[2001:db8::1]:80`.
fn node_address(node: &str) -> Option<IpAddr> {
    if let Some(rest) = node.strip_prefix('[') {
        return rest.split_once(']')?.0.parse().ok();
    }
    node.parse().ok().or_else(|| match node.split_once(':') {
        Some((v4, port)) if !port.contains(':') => v4.parse().ok(),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn trusted(blocks: &[&str]) -> TrustedProxies {
        TrustedProxies::new(blocks.iter().map(|b| b.parse().unwrap()).collect())
    }

    #[test]
    fn blocks_contain_their_addresses_only() {
        let block: Cidr = "10.1.0.0/16".parse().unwrap();
        assert!(block.contains(ip("10.1.255.3")));
        assert!(!block.contains(ip("10.2.0.1")));
        assert!(
            block.contains(ip("::ffff:10.1.0.9")),
            "a mapped IPv4 address"
        );
        assert!(!block.contains(ip("2001:db8::1")));
        let v6: Cidr = "2001:db8::/32".parse().unwrap();
        assert!(v6.contains(ip("2001:db8:ffff::1")));
        assert!(!v6.contains(ip("2001:db9::1")));
        let one: Cidr = "127.0.0.1".parse().unwrap();
        assert!(one.contains(ip("127.0.0.1")) && !one.contains(ip("127.0.0.2")));
        let all: Cidr = "::/0".parse().unwrap();
        assert!(all.contains(ip("2001:db8::1")) && !all.contains(ip("192.0.2.1")));
        let all_v4: Cidr = "0.0.0.0/0".parse().unwrap();
        assert!(all_v4.contains(ip("192.0.2.1")));
    }

    #[test]
    fn bad_blocks_are_refused_with_a_reason() {
        for bad in [
            "10.0.0.0/33",
            "10.0.0.1/8",
            "2001:db8::1/32",
            "proxy.example",
            "10.0.0.0/",
            "10.0.0.0/-1",
        ] {
            let error = bad.parse::<Cidr>().unwrap_err();
            assert!(error.contains(bad), "{bad}: {error}");
        }
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_forwards() {
        let proxies = trusted(&["10.0.0.0/8"]);
        let chain = x_forwarded_for(["203.0.113.9"]);
        assert_eq!(
            proxies.client_address(ip("198.51.100.4"), &chain),
            ip("198.51.100.4")
        );
        assert_eq!(
            TrustedProxies::default().client_address(ip("10.0.0.2"), &chain),
            ip("10.0.0.2")
        );
    }

    #[test]
    fn the_client_is_the_right_most_address_that_is_not_a_trusted_proxy() {
        let proxies = trusted(&["10.0.0.0/8", "2001:db8:a::/48"]);
        // The client claimed 203.0.113.9; the first proxy saw 198.51.100.4.
        let chain = x_forwarded_for(["203.0.113.9, 198.51.100.4", "10.0.0.7"]);
        assert_eq!(
            proxies.client_address(ip("10.0.0.2"), &chain),
            ip("198.51.100.4")
        );
        let chain = forwarded([
            r#"for=203.0.113.9, for="[2001:db8:cafe::17]:4711";proto=https"#,
            r#"for="[2001:db8:a::3]";by=_edge"#,
        ]);
        assert_eq!(
            proxies.client_address(ip("2001:db8:a::1"), &chain),
            ip("2001:db8:cafe::17")
        );
    }

    #[test]
    fn a_chain_is_believed_no_further_than_an_entry_that_names_no_address() {
        let proxies = trusted(&["10.0.0.0/8"]);
        let chain = forwarded(["for=203.0.113.9, for=unknown, for=10.0.0.5"]);
        assert_eq!(
            proxies.client_address(ip("10.0.0.2"), &chain),
            ip("10.0.0.5")
        );
        let chain = x_forwarded_for(["203.0.113.9, not-an-address"]);
        assert_eq!(
            proxies.client_address(ip("10.0.0.2"), &chain),
            ip("10.0.0.2")
        );
        let chain = x_forwarded_for(["10.0.0.9, 10.0.0.8"]);
        assert_eq!(
            proxies.client_address(ip("10.0.0.2"), &chain),
            ip("10.0.0.9"),
            "all trusted: the left-most"
        );
        assert_eq!(proxies.client_address(ip("10.0.0.2"), &[]), ip("10.0.0.2"));
    }

    #[test]
    fn chains_are_read_with_ports_quotes_and_mapped_addresses() {
        assert_eq!(
            x_forwarded_for(["192.0.2.1:8080 , [2001:db8::1]:443,2001:db8::2"]),
            vec![
                Some(ip("192.0.2.1")),
                Some(ip("2001:db8::1")),
                Some(ip("2001:db8::2"))
            ]
        );
        assert_eq!(
            forwarded([r#"For="192.0.2.1:80";host="a,b;c", proto=http;for=_hidden, by=x"#]),
            vec![Some(ip("192.0.2.1")), None, None]
        );
        let proxies = trusted(&["127.0.0.1"]);
        assert_eq!(
            proxies.client_address(
                ip("::ffff:127.0.0.1"),
                &x_forwarded_for(["::ffff:192.0.2.1"])
            ),
            ip("192.0.2.1")
        );
    }
}
