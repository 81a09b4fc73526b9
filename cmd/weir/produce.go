package main

import (
	"github.com/spf13/cobra"

	"weir/jobs/generate"
)

func newProduceCmd(g *globals) *cobra.Command {
	var o generate.ProduceOptions
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
			return generate.Produce(c.Context(), o, g.load, c.OutOrStdout())
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Topic, "topic", "", "topic to produce to (e.g. web.access)")
	f.StringVar(&o.Format, "format", "", "source topic whose parser counts bad lines and whose key rule applies (default: --topic)")
	f.StringVar(&o.File, "file", "", "file to replay, one record per line (.gz is decompressed; - is stdin)")
	f.BoolVar(&o.Records, "records", false, "the file is weir generate --output JSON lines; produce each to its topic")
	f.StringVar(&o.TopicPrefix, "topic-prefix", "", "prefix of the topics produced to (a staging or test copy), as generate and alerts take it")
	return cmd
}
