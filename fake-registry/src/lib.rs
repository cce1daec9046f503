//! A token-auth container registry with Docker Hub's personal-access-token rules.
