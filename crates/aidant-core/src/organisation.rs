//! Organisations and the roles their users hold.

/// Generates an enum with stable snake_case names used identically in Rust,
/// SQL, templates and JSON, plus `as_str`, `ALL` and `FromStr`.
macro_rules! named_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $text:literal, $label:literal;)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stable name used in storage and on the wire.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// The name shown to people.
            pub fn label(self) -> &'static str {
                match self { $($name::$variant => $label),+ }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, formatter: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                formatter.write_str(self.as_str())
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::organisation::UnknownName;
            fn from_str(raw: &str) -> Result<Self, $crate::organisation::UnknownName> {
                match raw { $($text => Ok($name::$variant),)+ _ => Err($crate::organisation::UnknownName { kind: stringify!($name), value: raw.to_owned() }) }
            }
        }
    };
}

pub(crate) use named_enum;

/// A name that is not one of an enum's values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{value}' is not a known {kind}")]
pub struct UnknownName {
    pub kind: &'static str,
    pub value: String,
}

named_enum! {
    /// What kind of body an organisation is; the access policy uses it.
    OrganisationKind {
        PoliceForce => "police_force", "Police force";
        NationalAgency => "national_agency", "National agency (such as the NCA)";
        Regulator => "regulator", "Regulator (such as the GLAA)";
        ImmigrationEnforcement => "immigration_enforcement", "Immigration Enforcement";
        Dvla => "dvla", "DVLA";
        Charity => "charity", "Charity";
        LocalAuthority => "local_authority", "Local authority";
    }
}

named_enum! {
    /// A role a user holds within their organisation.
    Role {
        CallHandler => "call_handler", "Call handler";
        Analyst => "analyst", "Analyst";
        Officer => "officer", "Officer";
        Supervisor => "supervisor", "Supervisor";
        SafeguardingLead => "safeguarding_lead", "Safeguarding lead";
        Partner => "partner", "Partner";
        Administrator => "administrator", "Administrator";
    }
}

named_enum! {
    /// Where a public report is in triage.
    ReportStatus {
        New => "new", "New";
        InReview => "in_review", "In review";
        Developed => "developed", "Developed into intelligence";
        NoFurtherAction => "no_further_action", "No further action";
        Referred => "referred", "Referred to a partner";
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for kind in OrganisationKind::ALL {
            assert_eq!(kind.as_str().parse::<OrganisationKind>(), Ok(*kind));
        }
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>(), Ok(*role));
        }
        for status in ReportStatus::ALL {
            assert_eq!(status.as_str().parse::<ReportStatus>(), Ok(*status));
        }
        assert_eq!("police".parse::<OrganisationKind>().unwrap_err().value, "police");
    }
}
