"""Image classifiers (timm) behind a registry: only an installed, validated model ever predicts."""
