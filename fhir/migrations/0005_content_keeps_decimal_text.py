# Resource content is written and read with fhir.jsonnum, so decimals keep their text (1.50 stays 1.50).
# No schema change: the encoder and decoder only change what Python writes to and reads from the column.

import fhir.jsonnum
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('fhir', '0004_search_index_value_then_resource'),
    ]

    operations = [
        migrations.AlterField(
            model_name='resourceversion',
            name='content',
            field=models.JSONField(decoder=fhir.jsonnum.Decoder, encoder=fhir.jsonnum.Encoder, null=True),
        ),
        migrations.AlterField(
            model_name='storedresource',
            name='content',
            field=models.JSONField(decoder=fhir.jsonnum.Decoder, encoder=fhir.jsonnum.Encoder, null=True),
        ),
    ]
