#!/bin/sh
# The release step (docker/entrypoint.sh release): once per deploy, before the
# new web processes start, with the new image.
#
#   1. migrate                     always
#   2. collectstatic               when static files live on S3 (AWS_STORAGE_BUCKET_NAME)
#   3. import_assets LISTING       when STOCKCHAT_RELEASE_LISTING names a listing file in the
#                                  image (trading/data/listing.csv ships): stocks and companies
#   4. import_prices FILES         when STOCKCHAT_RELEASE_PRICES names price files in the image
#                                  (space-separated): daily bars the feed starts its walk from
#   5. create_first_admin          when DJANGO_SUPERUSER_USERNAME is set (local accounts): a
#                                  superuser if there is none yet, else nothing
#
# Each step is safe to repeat: a later deploy runs them all again.
set -eu

python manage.py migrate --noinput
if [ -n "${AWS_STORAGE_BUCKET_NAME:-}" ]; then
  python manage.py collectstatic --noinput
fi
if [ -n "${STOCKCHAT_RELEASE_LISTING:-}" ]; then
  python manage.py import_assets "$STOCKCHAT_RELEASE_LISTING"
fi
if [ -n "${STOCKCHAT_RELEASE_PRICES:-}" ]; then
  # shellcheck disable=SC2086 # a space-separated list of files, split on purpose
  python manage.py import_prices $STOCKCHAT_RELEASE_PRICES
fi
if [ -n "${DJANGO_SUPERUSER_USERNAME:-}" ]; then
  python manage.py create_first_admin
fi
