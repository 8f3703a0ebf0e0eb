"""Inference backends: how one batch of token ids becomes English text.

The Translator owns everything around a batch (splitting, sorting, batching, checks, order);
a backend only runs the model. `transformers` runs the checkpoint as saved; `ctranslate2`
(pipeline/ct2.py) runs an int8 copy of it. Both take and give the same things, so a route
switches backend in config.yaml alone.

Both backends generate with the checkpoint's own settings where the pipeline sets none (BART's
forced `<s>`, length penalty and input prefix: `LoadedModel.generation`), and neither can produce
`<unk>` or an id the tokenizer has no token for (NLLB's embedding has two such rows): an `<unk>`
would vanish from the English without a trace, and an id beyond the tokenizer cannot be decoded.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from pipeline.models import LoadedModel
    from pipeline.translate import DecodingOptions


def token_batches(order: list[int], lengths: list[int], max_tokens: int, max_items: int) -> list[list[int]]:
    """Groups indices (given longest first) so that each batch's padded tokens (its longest
    input × its size) stay within `max_tokens`, and its size within `max_items`."""
    batches: list[list[int]] = []
    current: list[int] = []
    for i in order:
        longest = max([lengths[j] for j in current] + [lengths[i]])
        if current and (longest * (len(current) + 1) > max_tokens or len(current) >= max_items):
            batches.append(current)
            current = []
        current.append(i)
    if current:
        batches.append(current)
    return batches


@dataclass(frozen=True)
class SummaryDecoding:
    """How a summary is generated (the summarizer's own settings come from its options)."""

    num_beams: int
    min_new_tokens: int
    max_new_tokens: int
    no_repeat_ngram_size: int = 3


class Backend(Protocol):
    def generate_batch(
        self,
        loaded: LoadedModel,
        input_ids: list[list[int]],
        max_new_tokens: int,
        decoding: DecodingOptions,
        target_token: str | None,
    ) -> list[tuple[str, bool]]:
        """Returns (text, was_cut) per input, in input order.

        `input_ids` are the tokenizer's ids including its special tokens (NLLB's source language
        code, </s>). `target_token` (NLLB's `eng_Latn`) must be the first generated token.
        `was_cut` is true when an output reached `max_new_tokens` without ending.
        """
        ...

    def summarize_batch(self, loaded: LoadedModel, texts: list[str], decoding: SummaryDecoding) -> list[str]:
        """One summary per text, in order; the checkpoint's length penalty and forced BOS apply."""
        ...


class TransformersBackend:
    """model.generate on the checkpoint loaded by transformers (float32 on CPU, float16 on CUDA)."""

    def generate_batch(
        self,
        loaded: LoadedModel,
        input_ids: list[list[int]],
        max_new_tokens: int,
        decoding: DecodingOptions,
        target_token: str | None,
    ) -> list[tuple[str, bool]]:
        import torch

        tok = loaded.tokenizer
        kwargs = generate_kwargs(tok, max_new_tokens, decoding, target_token)
        kwargs["suppress_tokens"] = suppressed_ids(loaded)
        inputs = tok.pad({"input_ids": input_ids}, return_tensors="pt")
        inputs = {k: v.to(loaded.device) for k, v in inputs.items()}
        with torch.inference_mode():
            out = loaded.model.generate(**inputs, **kwargs)
        texts = tok.batch_decode(out, skip_special_tokens=True)
        results = []
        forced_eos = loaded.model.generation_config.forced_eos_token_id is not None
        for row, text in enumerate(texts):
            # Less the decoder start token, which is <pad> itself for Marian, and the padding.
            seq = out[row].tolist()[1:]
            while seq and seq[-1] == tok.pad_token_id:
                seq.pop()
            produced = len(seq)
            # Marian and BART force </s> as the last token when the budget runs out, so an </s>
            # in that last place does not mean the output ended on its own.
            body = seq[:-1] if forced_eos and produced >= max_new_tokens else seq
            cut = produced >= max_new_tokens and tok.eos_token_id not in body
            results.append((text.strip(), cut))
        return results

    def summarize_batch(self, loaded: LoadedModel, texts: list[str], decoding: SummaryDecoding) -> list[str]:
        import torch

        tok = loaded.tokenizer
        # The checkpoint's forced <s> and length penalty come with the model's generation config.
        inputs = tok(with_prefix(loaded, texts), return_tensors="pt", padding=True)
        inputs = {k: v.to(loaded.device) for k, v in inputs.items()}
        with torch.inference_mode():
            out = loaded.model.generate(
                **inputs,
                num_beams=decoding.num_beams,
                min_new_tokens=decoding.min_new_tokens,
                max_new_tokens=decoding.max_new_tokens,
                no_repeat_ngram_size=decoding.no_repeat_ngram_size,
                suppress_tokens=suppressed_ids(loaded),
            )
        return [t.strip() for t in tok.batch_decode(out, skip_special_tokens=True)]


def with_prefix(loaded: LoadedModel, texts: list[str]) -> list[str]:
    """The inputs as transformers' summarization pipeline gives them to the model: after the
    checkpoint's `prefix` (distilbart-cnn's is a space)."""
    prefix = loaded.generation.get("prefix") or ""
    return [prefix + text for text in texts]


def suppressed_ids(loaded: LoadedModel) -> list[int]:
    """`<unk>` and every output row no token owns (ids from the tokenizer's length up to the
    model's vocabulary size)."""
    tok = loaded.tokenizer
    rows = loaded.model.config.get_text_config(decoder=True).vocab_size
    return [tok.unk_token_id, *range(len(tok), rows)]


def generate_kwargs(
    tokenizer, max_new_tokens: int, decoding: DecodingOptions, target_token: str | None
) -> dict:
    """The keyword arguments of `model.generate` for these settings."""
    kwargs: dict[str, object] = {"num_beams": decoding.num_beams, "max_new_tokens": max_new_tokens}
    if decoding.no_repeat_ngram_size:
        kwargs["no_repeat_ngram_size"] = decoding.no_repeat_ngram_size
    if decoding.repetition_penalty > 1:
        kwargs["repetition_penalty"] = decoding.repetition_penalty
    if target_token:
        kwargs["forced_bos_token_id"] = tokenizer.convert_tokens_to_ids(target_token)
    return kwargs
