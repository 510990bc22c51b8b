"""DigitsInSight: the Gradio app. Draw or upload a number; it is read, shown and said.

    python app.py                 serve on 127.0.0.1:7860 (GRADIO_SERVER_NAME / GRADIO_SERVER_PORT)
    python app.py --share         also make a public gradio.live link (or DIGITSINSIGHT_SHARE=1)

This file only lays out components and wires them to functions of the digitsinsight package.
API endpoints (see README): /read_number, /read_sketch, /speak. UI events are private.
"""
import argparse
import os
import sys

import gradio as gr

from digitsinsight import corrections, insights, present, speech, ui
from digitsinsight.image import MAX_BYTES

QUEUE_SIZE = int(os.environ.get("DIGITSINSIGHT_QUEUE_SIZE", "64"))    # waiting requests; more get "busy"
WORKERS = int(os.environ.get("DIGITSINSIGHT_WORKERS", "2"))           # reads at once: one per CPU core

CSS = """
.di-answer {border-radius: 14px; padding: 14px 18px; background: var(--block-background-fill);
  border: 1px solid var(--border-color-primary); min-height: 120px}
.di-number {font-size: clamp(2.6rem, 7vw, 4.6rem); font-weight: 700; letter-spacing: .12em;
  line-height: 1.1; font-variant-numeric: tabular-nums; word-break: break-all}
.di-number.di-long {font-size: clamp(2rem, 4.5vw, 3.2rem); letter-spacing: .06em}
.di-number.di-xlong {font-size: clamp(1.5rem, 3vw, 2.2rem); letter-spacing: .03em}
.di-meta, .di-message {color: var(--body-text-color-subdued); margin-top: 6px}
.di-message {font-size: 1.15rem; color: var(--body-text-color)}
.di-chip {display: inline-block; font-size: .8rem; font-weight: 600; padding: 2px 10px; border-radius: 999px;
  background: #dcfce7; color: #166534}
.di-unsure .di-chip {background: #fef3c7; color: #92400e}
.di-no_digits .di-chip, .di-error .di-chip {background: #fee2e2; color: #991b1b}
.di-cards {display: flex; flex-wrap: wrap; gap: 10px}
.di-card {margin: 0; padding: 8px; width: 118px; border-radius: 12px; border: 1px solid var(--border-color-primary);
  background: var(--block-background-fill); text-align: center}
.di-card-unsure {border-color: #f59e0b; box-shadow: 0 0 0 2px #fde68a}
.di-card img {image-rendering: pixelated; border-radius: 6px; border: 1px solid var(--border-color-primary)}
.di-card figcaption b {font-size: 1.6rem}
.di-flag {color: #b45309; font-size: .85rem; font-weight: 600}
.di-sure {color: #15803d; font-size: .85rem}
.di-bars {display: flex; gap: 2px; height: 46px; align-items: flex-end; margin-top: 4px}
.di-bar {flex: 1; height: 100%; display: flex; flex-direction: column; justify-content: flex-end; position: relative}
.di-bar span {display: block; background: #c7d2fe; border-radius: 2px 2px 0 0}
.di-bar.di-top span {background: #4f46e5}
.di-bar em {font-style: normal; font-size: .62rem; color: var(--body-text-color-subdued)}
#di-hero h1 {margin-bottom: 0}
"""

# The sketchpad opens with no tool chosen ("select the draw tool to start"): choose the brush for people.
PICK_BRUSH = """() => { let tries = 0; const pick = () => {
  const b = document.querySelector('#sketchpad button[aria-label="Brush"]');
  if (b) { if (!b.classList.contains('selected')) b.click(); } else if (tries++ < 20) setTimeout(pick, 250); };
  pick(); }"""


def build() -> gr.Blocks:
    found = ui.examples()
    with gr.Blocks(title="DigitsInSight: read handwritten numbers") as demo:
        active = gr.State("draw")         # which input the Read button and corrections use
        reading = gr.State({})            # the last reading, as to_dict()
        spoken = gr.State("")             # what was last said, so a redraw does not repeat it
        # Made here, shown in the Read tab, so the home page's examples can fill it.
        upload = gr.Image(label="Photo or scan of a number", type="filepath", image_mode=None,
                          sources=["upload", "webcam", "clipboard"], elem_id="upload", height=400, render=False)

        with gr.Tabs(selected="home") as tabs:
            with gr.Tab("Home", id="home"):
                with gr.Row():
                    with gr.Column(scale=3):
                        gr.Markdown(ui.HOME, elem_id="home-text")
                        start = gr.Button("Start: read a number", variant="primary", elem_id="start")
                    with gr.Column(scale=2):
                        gr.Markdown("### The model in figures")
                        gr.Markdown(insights.key_figures_markdown(), elem_id="key-figures")
                home_examples = gr.Examples(examples=[[e["path"]] for e in found], inputs=[upload],
                                            label="Click an example to read it", elem_id="home-examples")

            with gr.Tab("Read a number", id="read") as read_tab:
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3):
                        with gr.Tabs(selected="draw") as input_tabs:
                            with gr.Tab("Draw", id="draw") as draw_tab:
                                sketch = gr.Sketchpad(
                                    label="Draw a number", type="numpy", image_mode="RGBA", elem_id="sketchpad",
                                    canvas_size=(1000, 400), height=430, layers=False,
                                    brush=gr.Brush(default_size=18, colors=["#000000"], color_mode="fixed"),
                                    eraser=gr.Eraser(default_size=36))
                            with gr.Tab("Upload or take a photo", id="upload") as upload_tab:
                                upload.render()
                                gr.Examples(examples=[[e["path"]] for e in found], inputs=[upload],
                                            label="Examples")
                        read_button = gr.Button("Read the number", variant="primary", elem_id="read-button")
                    with gr.Column(scale=2):
                        answer = gr.HTML(present.number_html(None), elem_id="answer")
                        notes = gr.Markdown(elem_id="warnings")
                        voice = gr.Audio(label="Spoken answer", type="numpy", format="wav", autoplay=True,
                                         interactive=False, elem_id="voice")
                        with gr.Row():
                            language = gr.Dropdown(choices=[(v, k) for k, v in speech.LANGUAGES.items()],
                                                   value="en", label="Language", elem_id="language")
                            mode = gr.Radio(choices=[("As a number", "number"), ("Digit by digit", "digits")],
                                            value="number", label="Say it", elem_id="mode")
                        speak_on = gr.Checkbox(value=True, label="Speak the answer", elem_id="speak-on")
                gr.Markdown("#### What the model saw")
                cards = gr.HTML(elem_id="digit-cards")
                boxed = gr.AnnotatedImage(label="Where each digit was found", elem_id="boxed", height=320)
                with gr.Accordion("Wrong? Type the right number", open=False, elem_id="correction"):
                    gr.Markdown(corrections.PRIVACY_NOTICE)
                    with gr.Row():
                        right_number = gr.Textbox(label="The right number", placeholder="e.g. 0427",
                                                  elem_id="right-number", max_lines=3)
                        consent = gr.Checkbox(label="I agree to send this image and number", value=False,
                                              elem_id="consent")
                        send = gr.Button("Send correction", elem_id="send-correction")
                    sent = gr.Markdown(elem_id="correction-result")

            with gr.Tab("Model insights", id="insights"):
                gr.Markdown(insights.key_figures_markdown())
                with gr.Row():
                    gr.Dataframe(insights.per_class_rows(), label="Per digit, on the MNIST test set",
                                 headers=["digit", "test digits", "errors", "accuracy %", "most often read as"],
                                 interactive=False)
                    gr.Dataframe(insights.baseline_rows(), label="Classical baselines beside the CNN (same digits)",
                                 headers=["model", "accuracy %", "errors per 10,000", "fit s", "predict s"],
                                 interactive=False)
                gr.Gallery(insights.insight_images(), label="Evaluation plots", columns=2, height="auto",
                           object_fit="contain", elem_id="insight-plots")

            with gr.Tab("About", id="about"):
                gr.Markdown(ui.ABOUT)

        shown = [answer, cards, boxed, notes, reading]
        speak_args = [reading, language, mode, speak_on, spoken]
        private = {"api_visibility": "private"}

        start.click(ui.go_to_read, None, tabs, **private).then(None, js=PICK_BRUSH)
        for tab in (read_tab, draw_tab):
            tab.select(None, js=PICK_BRUSH)
        home_examples.dataset.click(ui.go_to_read_upload, None, [tabs, input_tabs, active], **private)
        draw_tab.select(ui.use_input("draw"), None, active, **private)
        upload_tab.select(ui.use_input("upload"), None, active, **private)
        # Read as the person draws; "always_last" drops events that pile up behind a slow one,
        # and the voice follows once the number is on screen.
        for event, source, name in ((sketch.change, sketch, "draw"), (upload.change, upload, "upload")):
            event(ui.use_input(name), None, active, queue=False, **private)
            event(ui.show, source, shown, trigger_mode="always_last", show_progress="hidden", **private).then(
                ui.say_new, speak_args, [voice, spoken], show_progress="hidden", **private)
        read_button.click(ui.show_active, [active, sketch, upload], shown, **private).then(
            ui.say_again, speak_args, [voice, spoken], **private)
        for control in (language, mode, speak_on):
            control.change(ui.say_again, speak_args, [voice, spoken], show_progress="hidden", **private)
        send.click(ui.send_correction, [active, sketch, upload, right_number, consent, reading], sent, **private)

        # The public API: named endpoints on hidden components.
        with gr.Row(visible=False):
            api_file = gr.File(label="image", type="filepath")
            api_sketch = gr.Sketchpad(label="sketch", type="numpy", image_mode="RGBA")
            api_text = gr.Textbox(label="text")
            api_language = gr.Textbox(label="language", value="en")
            api_mode = gr.Textbox(label="mode", value="number")
            api_json = gr.JSON(label="reading")
            api_audio = gr.Audio(label="audio", type="numpy", format="wav")
            api_buttons = [gr.Button() for _ in range(3)]
        api_buttons[0].click(ui.api_read_number, api_file, api_json, api_name="read_number",
                             api_description=ui.api_read_number.__doc__)
        api_buttons[1].click(ui.api_read_number, api_sketch, api_json, api_name="read_sketch",
                             api_description="Like /read_number, for a sketchpad value {background, layers, composite}.")
        api_buttons[2].click(ui.api_speak, [api_text, api_language, api_mode], api_audio, api_name="speak",
                             api_description=ui.api_speak.__doc__)
    return demo


def create() -> gr.Blocks:
    """The app with its queue: at most WORKERS reads at once, QUEUE_SIZE waiting, then "busy"."""
    return build().queue(default_concurrency_limit=WORKERS, max_size=QUEUE_SIZE)


def launch_options() -> dict:
    return {"max_file_size": MAX_BYTES, "css": CSS, "theme": gr.themes.Soft(primary_hue="indigo"),
            "show_error": False, "footer_links": ["api"]}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--share", action="store_true", default=os.environ.get("DIGITSINSIGHT_SHARE") == "1",
                   help="also serve on a public gradio.live link")
    args = p.parse_args(argv)
    ui.warm_up()                      # load the model and run it once: the first person does not wait
    speech.start_neural_voice()      # fetches a neural voice in the background where configured
    corrections.start_uploads()       # pushes corrections to a dataset repo, where one is configured
    create().launch(server_name=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"), share=args.share,
                    **launch_options())
    return 0


if __name__ == "__main__":
    sys.exit(main())
