package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/spf13/cobra"

	"weir/jobs/generate"
	"weir/kafkaio"
)

func newProduceCmd(g *globals) *cobra.Command {
	var topic, file, format, prefix string
	var records bool
	cmd := &cobra.Command{
		Use:   "produce",
		Short: "replay a log file (one record per line) into a Kafka topic",
		Long: `produce sends every line of --file (gzip if it ends in .gz; - is stdin) to
--topic as one record, unchanged, so the original timestamps stay in the
payload. Lines the topic's parser rejects are produced anyway (bronze keeps
everything) and counted in the report.

With --records, --file is a weir generate --output file and every record goes
to its own topic (--topic is ignored).`,
		Example: `  weir produce --topic web.access --file /var/log/apache2/access.log
  weir produce --records --file gen.jsonl
  # into a staging copy of the topics (staging.web.access, ...)
  weir produce --records --file gen.jsonl --topic-prefix staging.`,
		RunE: func(c *cobra.Command, _ []string) error {
			ctx := c.Context()
			if file == "" || (topic == "" && !records) {
				return errors.New("produce: --file and --topic (or --records) are required")
			}
			cfg, err := g.load()
			if err != nil {
				return err
			}
			in, closeIn, err := generate.OpenFile(file)
			if err != nil {
				return err
			}
			defer closeIn()
			p, err := kafkaio.NewProducer(cfg.Kafka, nil)
			if err != nil {
				return err
			}
			defer p.Close()

			began := time.Now()
			var (
				st     generate.ReplayStats
				runErr error
			)
			sink := generate.PrefixSink{Sink: p, Prefix: prefix}
			if records {
				st.Produced, runErr = generate.ReplayRecords(ctx, in, sink)
				st.Lines = st.Produced
			} else {
				st, runErr = generate.Replay(ctx, in, topic, format, sink)
			}
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
			defer cancel()
			if err := errors.Join(runErr, p.Flush(fctx)); err != nil {
				return fmt.Errorf("produce %s: %w", file, err)
			}
			ps := p.Stats()
			slog.Info("produce done", "topic", topic, "file", file, "lines", st.Lines, "produced", st.Produced,
				"delivered", ps.Delivered, "bad", st.Bad, "bad_by_class", st.BadBy, "cut", st.Cut,
				"seconds", time.Since(began).Seconds())
			fmt.Fprintf(c.OutOrStdout(), "lines=%d produced=%d delivered=%d bad=%d cut=%d\n", st.Lines, st.Produced, ps.Delivered, st.Bad, st.Cut)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&topic, "topic", "", "topic to produce to (e.g. web.access)")
	f.StringVar(&format, "format", "", "source topic whose parser counts bad lines and whose key rule applies (default: --topic)")
	f.StringVar(&file, "file", "", "file to replay, one record per line (.gz is decompressed; - is stdin)")
	f.BoolVar(&records, "records", false, "the file is weir generate --output JSON lines; produce each to its topic")
	f.StringVar(&prefix, "topic-prefix", "", "prefix of the topics produced to (a staging or test copy), as generate and alerts take it")
	return cmd
}
