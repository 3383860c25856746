//! The typed decision `zpdp_engine_decide` writes beside its JSON, so a C host
//! can fail closed without a JSON parser.

/// Allow or deny, as `zpdp_engine_decide` writes it to `*decision_out`
///
/// The numbers are stable. Deny is 0, so a zero-initialised variable holds a
/// deny. Allow only when the call returned `ZPDP_STATUS_OK` **and** the
/// value is `ZPDP_DECISION_ALLOW`; treat every other status or value as deny.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[expect(non_camel_case_types, reason = "C type names are snake_case")]
pub enum zpdp_decision {
    /// Denied: the response's `reasons` say why. Also what a host must assume
    /// when the call did not return `ZPDP_STATUS_OK`
    Deny = 0,
    /// Allowed
    Allow = 1,
}

impl zpdp_decision {
    /// The typed form of a response's decision; anything but allow is deny
    pub(crate) fn of(response: &zorg_pdp::Response) -> Self {
        if response.is_allowed() {
            zpdp_decision::Allow
        } else {
            zpdp_decision::Deny
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_stable_and_deny_is_zero() {
        assert_eq!(zpdp_decision::Deny as u32, 0);
        assert_eq!(zpdp_decision::Allow as u32, 1);
        assert_eq!(size_of::<zpdp_decision>(), size_of::<u32>());
    }
}
