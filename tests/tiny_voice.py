"""A tiny random-weight VITS voice for tests and the benchmark: coqui's own model class and
config, built and saved locally (about 1.5 MB), so the neural path can be exercised offline.

Its audio is noise: it tests loading and synthesis through TTS.api, not voice quality.
Characters only (no phonemizer), so no espeak-ng binary is needed.
"""
from pathlib import Path

CHARACTERS = "abcdefghijklmnopqrstuvwxyz"
PUNCTUATIONS = "!'(),-.:;? "


def build_tiny_voice(folder, seed: int = 0) -> tuple:
    """Write model.pth and config.json into `folder`; return (model_path, config_path) as strings."""
    import torch
    from TTS.config.shared_configs import BaseAudioConfig
    from TTS.tts.configs.shared_configs import CharactersConfig
    from TTS.tts.configs.vits_config import VitsConfig
    from TTS.tts.models.vits import Vits, VitsArgs

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    args = VitsArgs(hidden_channels=16, hidden_channels_ffn_text_encoder=32, num_heads_text_encoder=2,
                    num_layers_text_encoder=1, num_layers_posterior_encoder=1, num_layers_flow=1,
                    resblock_kernel_sizes_decoder=[3], resblock_dilation_sizes_decoder=[[1, 3, 5]],
                    upsample_initial_channel_decoder=16, use_sdp=False, init_discriminator=False,
                    max_inference_len=4000)  # random durations can be long: bound the noise it makes
    config = VitsConfig(
        model_args=args, audio=BaseAudioConfig(sample_rate=22050, hop_length=256, win_length=1024, fft_size=1024,
                                              do_trim_silence=False),  # coqui would trim its noise to bits
        use_phonemes=False, phoneme_language="en", text_cleaner="basic_cleaners", add_blank=True,
        characters=CharactersConfig(characters_class="TTS.tts.models.vits.VitsCharacters", pad="<PAD>",
                                    eos="<EOS>", bos="<BOS>", blank="<BLNK>", characters=CHARACTERS,
                                    punctuations=PUNCTUATIONS, phonemes=None, is_unique=False, is_sorted=True),
        test_sentences=[])
    torch.manual_seed(seed)
    model = Vits(config)  # fills num_chars from the characters
    model_path, config_path = folder / "model.pth", folder / "config.json"
    torch.save({"model": model.state_dict()}, model_path)
    model.config.save_json(str(config_path))
    return str(model_path), str(config_path)


if __name__ == "__main__":
    import sys
    import time

    out = Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/tiny_voice")
    t = time.perf_counter()
    paths = build_tiny_voice(out)
    print(paths, f"{time.perf_counter() - t:.2f} s", sum(Path(p).stat().st_size for p in paths) // 1024, "KiB")
