"""The portal's domain: models, policy, offer and services. No request, no template."""
