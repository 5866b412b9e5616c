"""Features tab handlers: sentences → their SAE features; a corpus → its feature atlas; an id → its card."""
from __future__ import annotations

import gradio as gr

from backend.capabilities.features import feature_atlas, feature_lookup, sentence_features
from backend.core.errors import InvalidInput
from ui.errors import progress_callback, user_facing
from ui.figures import features as fig
from ui.zerogpu import gpu


def _feature_choices(result) -> list[tuple[str, int]]:
    shared = {f for f, _ in result.shared}
    return [(f"{fig.SHARED_MARK + ' ' if f in shared else ''}{f} · {result.labels.get(f, '') or '(no label)'}", f)
            for f in result.columns]


def make_features_handlers(registry):
    @gpu
    @user_facing
    def on_features_compute(text, k, progress=gr.Progress()):
        result = sentence_features(registry, text, k, progress_callback(progress))
        choices = _feature_choices(result)
        return (fig.feature_heatmap(result), fig.shared_markdown(result), fig.top_features_table(result),
                gr.update(choices=choices, value=None), result.card_feature, result.to_dict())

    @gpu(duration=120)
    @user_facing
    def on_features_atlas(corpus, max_rows, progress=gr.Progress()):
        atlas = feature_atlas(registry, corpus, max_rows, progress_callback(progress))
        return (fig.atlas_markdown(atlas), fig.entropy_histogram(atlas), fig.specific_share_figure(atlas),
                fig.p_at_1_table(atlas), fig.features_table(atlas), atlas.card_feature, atlas.to_dict())

    @user_facing
    def on_features_card(corpus, max_rows, feature, progress=gr.Progress()):
        if feature is None or feature == "":
            raise InvalidInput("Type a feature id (0 to 16,383), or pick one from the heatmap's list.")
        lookup = feature_lookup(registry, corpus, feature, max_rows, progress=progress_callback(progress))
        return fig.card_markdown(lookup), fig.lookup_table(lookup), lookup.to_dict()

    def on_features_pick(feature):
        """A feature picked from the heatmap's list goes to the lookup box; its change opens the card."""
        return gr.update() if feature is None else feature

    return on_features_compute, on_features_atlas, on_features_card, on_features_pick
