# bbdc-sim in a container: the simulated Bitbucket Data Center (`serve`, the default) or the
# conformance suite (`conform`). Build and run:
#
#   docker build -t bbdc-sim .
#   docker run -p 7990:7990 -e BBDC_SIM_CONTROL_TOKEN=s3cret bbdc-sim
#   docker run bbdc-sim conform --sut http://integration:5000/_conformance
#
# Bound to 0.0.0.0 inside the container, the control API needs a token (the server refuses
# to start without one) and answers only the host names it knows: add the name other
# containers use with BBDC_SIM_CONTROL_HOSTS (docs/simulator.md, "Containers").
FROM python:3.11-slim

COPY pyproject.toml README.md /src/
COPY simulator /src/simulator
COPY conformance /src/conformance
COPY features /src/features
RUN pip install --no-cache-dir /src && rm -rf /src

RUN useradd --create-home bbdc
USER bbdc
WORKDIR /home/bbdc

ENV BBDC_SIM_HOST=0.0.0.0 \
    BBDC_SIM_PORT=7990 \
    PYTHONUNBUFFERED=1
EXPOSE 7990

HEALTHCHECK --interval=5s --timeout=3s --start-period=5s --retries=3 \
    CMD ["python", "-c", "import os, sys, urllib.request; port = os.environ.get('BBDC_SIM_PORT', '7990'); sys.exit(0 if urllib.request.urlopen(f'http://127.0.0.1:{port}/_sim/health', timeout=2).status == 200 else 1)"]

ENTRYPOINT ["bbdc-sim"]
CMD ["serve"]
