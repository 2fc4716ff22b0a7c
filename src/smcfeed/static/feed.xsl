<?xml version="1.0" encoding="UTF-8"?>
<!--
  Makes our RSS 2.0 and Atom 1.0 feeds readable when someone opens one in a browser.

  Feeds point here with <?xml-stylesheet type="text/xsl" href=".../feed.xsl"?>; the
  browser turns the feed into the HTML page below. XSLT 1.0 only (that is all browsers
  run), inline CSS, no JavaScript and nothing loaded from anywhere else. The page is in
  Spanish when the feed's language (RSS channel/language, Atom feed/@xml:lang) starts
  with "es", in English otherwise. Full item content is HTML-escaped text, which XSLT
  in Firefox cannot render, so each item shows its summary instead.
-->
<xsl:stylesheet version="1.0"
    xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:atom="http://www.w3.org/2005/Atom"
    xmlns:content="http://purl.org/rss/1.0/modules/content/"
    xmlns:dc="http://purl.org/dc/elements/1.1/"
    xmlns:creativeCommons="http://backend.userland.com/creativeCommonsRssModule"
    exclude-result-prefixes="atom content dc creativeCommons">

  <xsl:output method="html" encoding="UTF-8" indent="yes"
      doctype-system="about:legacy-compat"/>

  <!-- The feed, whichever format it is in. -->
  <xsl:variable name="channel" select="/rss/channel | /atom:feed"/>
  <xsl:variable name="is-atom" select="boolean(/atom:feed)"/>
  <xsl:variable name="lang-raw"
      select="normalize-space(/rss/channel/language | /atom:feed/@xml:lang)"/>
  <xsl:variable name="lang"
      select="translate($lang-raw, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')"/>
  <xsl:variable name="is-es" select="starts-with($lang, 'es')"/>
  <xsl:variable name="links" select="/rss/channel/atom:link | /atom:feed/atom:link"/>
  <xsl:variable name="self-url" select="string($links[@rel='self'][1]/@href)"/>
  <!-- The URL to subscribe to is the first page, not whichever page is open. -->
  <xsl:variable name="subscribe-url">
    <xsl:choose>
      <xsl:when test="$links[@rel='first']">
        <xsl:value-of select="$links[@rel='first'][1]/@href"/>
      </xsl:when>
      <xsl:otherwise><xsl:value-of select="$self-url"/></xsl:otherwise>
    </xsl:choose>
  </xsl:variable>
  <xsl:variable name="format">
    <xsl:choose>
      <xsl:when test="$is-atom">Atom</xsl:when>
      <xsl:otherwise>RSS</xsl:otherwise>
    </xsl:choose>
  </xsl:variable>

  <xsl:template match="/">
    <html>
      <xsl:attribute name="lang">
        <xsl:choose>
          <xsl:when test="$lang-raw != ''"><xsl:value-of select="$lang-raw"/></xsl:when>
          <xsl:otherwise>en</xsl:otherwise>
        </xsl:choose>
      </xsl:attribute>
      <head>
        <meta http-equiv="Content-Type" content="text/html; charset=UTF-8"/>
        <meta name="viewport" content="width=device-width, initial-scale=1"/>
        <meta name="color-scheme" content="light dark"/>
        <title>
          <xsl:value-of select="normalize-space($channel/title | $channel/atom:title)"/>
          <xsl:text> · </xsl:text>
          <xsl:value-of select="$format"/>
        </title>
        <style><xsl:call-template name="css"/></style>
      </head>
      <body>
        <xsl:call-template name="banner"/>
        <div class="page">
          <xsl:call-template name="header"/>
          <main>
            <xsl:variable name="entries" select="/rss/channel/item | /atom:feed/atom:entry"/>
            <xsl:choose>
              <xsl:when test="$entries">
                <ol class="items">
                  <xsl:apply-templates select="$entries"/>
                </ol>
              </xsl:when>
              <xsl:otherwise>
                <p class="empty">
                  <xsl:call-template name="l">
                    <xsl:with-param name="es">Todavía no hay publicaciones en este feed.</xsl:with-param>
                    <xsl:with-param name="en">There is nothing in this feed yet.</xsl:with-param>
                  </xsl:call-template>
                </p>
              </xsl:otherwise>
            </xsl:choose>
            <xsl:call-template name="pager"/>
          </main>
          <xsl:call-template name="footer"/>
        </div>
      </body>
    </html>
  </xsl:template>

  <!-- "This is a feed" notice, with the address to copy. -->
  <xsl:template name="banner">
    <aside class="banner" id="about-feeds">
      <xsl:attribute name="lang">
        <xsl:choose>
          <xsl:when test="$is-es">es</xsl:when>
          <xsl:otherwise>en</xsl:otherwise>
        </xsl:choose>
      </xsl:attribute>
      <div class="banner-inner">
        <svg class="feed-icon" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"
            width="40" height="40" aria-hidden="true">
          <rect width="24" height="24" rx="5" fill="#e8772e"/>
          <circle cx="6.5" cy="17.5" r="2" fill="#fff"/>
          <path d="M4.5 10.5a9 9 0 0 1 9 9M4.5 5a14.5 14.5 0 0 1 14.5 14.5" fill="none"
              stroke="#fff" stroke-width="2.4" stroke-linecap="round"/>
        </svg>
        <div class="banner-text">
          <p class="banner-title">
            <xsl:call-template name="l">
              <xsl:with-param name="es">Esto es un feed: copia su dirección en tu lector de feeds.</xsl:with-param>
              <xsl:with-param name="en">This is a feed: copy its URL into your feed reader.</xsl:with-param>
            </xsl:call-template>
          </p>
          <p>
            <xsl:call-template name="l">
              <xsl:with-param name="es">Un lector de feeds (como Feedly, Inoreader, NetNewsWire o Thunderbird) te avisa de cada nueva publicación sin que tengas que volver a esta web. Esta página es una vista previa de lo que recibirás.</xsl:with-param>
              <xsl:with-param name="en">A feed reader (such as Feedly, Inoreader, NetNewsWire or Thunderbird) shows you every new post without you having to come back to this site. This page is a preview of what you will get.</xsl:with-param>
            </xsl:call-template>
          </p>
          <xsl:if test="$subscribe-url != ''">
            <p class="subscribe">
              <span class="subscribe-label">
                <xsl:call-template name="l">
                  <xsl:with-param name="es">Dirección del feed</xsl:with-param>
                  <xsl:with-param name="en">Feed URL</xsl:with-param>
                </xsl:call-template>
              </span>
              <code class="feed-url"><xsl:value-of select="$subscribe-url"/></code>
            </p>
          </xsl:if>
        </div>
      </div>
    </aside>
  </xsl:template>

  <xsl:template name="header">
    <header class="masthead">
      <p class="kicker">
        <span class="format">
          <xsl:call-template name="l">
            <xsl:with-param name="es">Feed <xsl:value-of select="$format"/></xsl:with-param>
            <xsl:with-param name="en"><xsl:value-of select="$format"/> feed</xsl:with-param>
          </xsl:call-template>
        </span>
        <xsl:variable name="updated" select="($channel/lastBuildDate | $channel/atom:updated)[1]"/>
        <xsl:if test="$updated">
          <span class="updated">
            <xsl:call-template name="l">
              <xsl:with-param name="es">Actualizado el </xsl:with-param>
              <xsl:with-param name="en">Updated </xsl:with-param>
            </xsl:call-template>
            <xsl:call-template name="time">
              <xsl:with-param name="value" select="$updated"/>
            </xsl:call-template>
          </span>
        </xsl:if>
      </p>
      <h1><xsl:value-of select="normalize-space($channel/title | $channel/atom:title)"/></h1>
      <xsl:variable name="subtitle" select="normalize-space($channel/description | $channel/atom:subtitle)"/>
      <xsl:if test="$subtitle != ''">
        <p class="subtitle"><xsl:value-of select="$subtitle"/></p>
      </xsl:if>
      <xsl:variable name="site"
          select="($channel/link | $channel/atom:link[@rel='alternate' or not(@rel)]/@href)[1]"/>
      <xsl:if test="normalize-space($site) != ''">
        <p class="site">
          <a href="{normalize-space($site)}">
            <xsl:call-template name="l">
              <xsl:with-param name="es">Ir a la web</xsl:with-param>
              <xsl:with-param name="en">Visit the website</xsl:with-param>
            </xsl:call-template>
            <xsl:text> →</xsl:text>
          </a>
        </p>
      </xsl:if>
    </header>
  </xsl:template>

  <!-- One item or entry. -->
  <xsl:template match="item | atom:entry">
    <xsl:variable name="alternates" select="atom:link[not(@rel) or @rel='alternate']"/>
    <!-- The item's own link is the alternate in the feed's language; translations are the
         other alternates and the related links with an hreflang. -->
    <xsl:variable name="same-lang"
        select="$alternates[not(@hreflang) or translate(@hreflang, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz') = $lang]"/>
    <xsl:variable name="main-link" select="$same-lang[1] | $alternates[not($same-lang)][1]"/>
    <xsl:variable name="href">
      <xsl:choose>
        <xsl:when test="normalize-space(link) != ''"><xsl:value-of select="normalize-space(link)"/></xsl:when>
        <xsl:when test="$main-link"><xsl:value-of select="$main-link/@href"/></xsl:when>
        <xsl:when test="guid[not(@isPermaLink = 'false')]">
          <xsl:value-of select="normalize-space(guid)"/>
        </xsl:when>
      </xsl:choose>
    </xsl:variable>
    <xsl:variable name="title" select="normalize-space(title | atom:title)"/>
    <!-- First published, as RSS pubDate or Atom published; else the last change. -->
    <xsl:variable name="date">
      <xsl:choose>
        <xsl:when test="atom:published"><xsl:value-of select="atom:published"/></xsl:when>
        <xsl:when test="pubDate"><xsl:value-of select="pubDate"/></xsl:when>
        <xsl:when test="dc:date"><xsl:value-of select="dc:date"/></xsl:when>
        <xsl:otherwise><xsl:value-of select="atom:updated"/></xsl:otherwise>
      </xsl:choose>
    </xsl:variable>
    <xsl:variable name="types" select="category[contains(@domain, '/types/')] | atom:category[contains(@scheme, '/types/')]"/>
    <xsl:variable name="topics" select="(category | atom:category)[count(. | $types) != count($types)]"/>
    <li class="item">
      <article>
        <p class="meta">
          <xsl:for-each select="$types">
            <span class="type"><xsl:call-template name="category-label"/></span>
          </xsl:for-each>
          <xsl:if test="normalize-space($date) != ''">
            <xsl:call-template name="time">
              <xsl:with-param name="value" select="$date"/>
            </xsl:call-template>
          </xsl:if>
          <xsl:if test="atom:published and atom:updated and substring(normalize-space(atom:updated), 1, 16) != substring(normalize-space(atom:published), 1, 16)">
            <span class="updated">
              <xsl:call-template name="l">
                <xsl:with-param name="es">actualizado el </xsl:with-param>
                <xsl:with-param name="en">updated </xsl:with-param>
              </xsl:call-template>
              <xsl:call-template name="time">
                <xsl:with-param name="value" select="atom:updated"/>
              </xsl:call-template>
            </span>
          </xsl:if>
        </p>
        <h2 class="item-title">
          <xsl:choose>
            <xsl:when test="$href != ''">
              <a href="{$href}"><xsl:value-of select="$title"/></a>
            </xsl:when>
            <xsl:otherwise><xsl:value-of select="$title"/></xsl:otherwise>
          </xsl:choose>
        </h2>
        <xsl:variable name="summary" select="normalize-space((description | atom:summary)[1])"/>
        <xsl:if test="$summary != ''">
          <p class="summary">
            <xsl:call-template name="html-text">
              <xsl:with-param name="s" select="$summary"/>
              <xsl:with-param name="html" select="boolean(description)"/>
            </xsl:call-template>
          </p>
        </xsl:if>
        <xsl:if test="atom:contributor">
          <p class="experts">
            <span class="label">
              <xsl:call-template name="l">
                <xsl:with-param name="es">Con: </xsl:with-param>
                <xsl:with-param name="en">With: </xsl:with-param>
              </xsl:call-template>
            </span>
            <xsl:for-each select="atom:contributor">
              <xsl:if test="position() != 1">
                <xsl:choose>
                  <xsl:when test="position() = last() and $is-es"> y </xsl:when>
                  <xsl:when test="position() = last()"> and </xsl:when>
                  <xsl:otherwise>, </xsl:otherwise>
                </xsl:choose>
              </xsl:if>
              <xsl:value-of select="normalize-space(atom:name)"/>
            </xsl:for-each>
          </p>
        </xsl:if>
        <xsl:variable name="translations"
            select="($alternates | atom:link[@rel='related'])[@hreflang][count(. | $main-link) != count($main-link)]"/>
        <xsl:if test="$topics or $translations">
          <div class="foot">
            <xsl:if test="$topics">
              <ul class="tags">
                <xsl:attribute name="aria-label">
                  <xsl:call-template name="l">
                    <xsl:with-param name="es">Temas</xsl:with-param>
                    <xsl:with-param name="en">Topics</xsl:with-param>
                  </xsl:call-template>
                </xsl:attribute>
                <xsl:for-each select="$topics">
                  <li class="tag"><xsl:call-template name="category-label"/></li>
                </xsl:for-each>
              </ul>
            </xsl:if>
            <xsl:for-each select="$translations">
              <a class="translation" href="{@href}" hreflang="{@hreflang}" lang="{@hreflang}">
                <xsl:if test="@title"><xsl:attribute name="title"><xsl:value-of select="@title"/></xsl:attribute></xsl:if>
                <xsl:call-template name="language-name">
                  <xsl:with-param name="code" select="@hreflang"/>
                </xsl:call-template>
              </a>
            </xsl:for-each>
          </div>
        </xsl:if>
      </article>
    </li>
  </xsl:template>

  <!-- The text of an RSS description, which is HTML: smcfeed puts escaped plain text there
       (only &amp;, &lt; and &gt; are escaped), so undoing those three gives the text back, shown
       as text (never as markup). Atom's summary and subtitle are text already. -->
  <xsl:template name="html-text">
    <xsl:param name="s"/>
    <xsl:param name="html" select="false()"/>
    <xsl:choose>
      <xsl:when test="not($html) or not(contains($s, '&amp;'))">
        <xsl:value-of select="$s"/>
      </xsl:when>
      <!-- Long text is halved (never inside an entity), so recursion stays shallow. -->
      <xsl:when test="string-length($s) &gt; 64">
        <xsl:variable name="n" select="floor(string-length($s) div 2)"/>
        <xsl:variable name="tail" select="substring($s, $n - 3, 4)"/>
        <xsl:variable name="cut">
          <xsl:choose>
            <xsl:when test="contains($tail, '&amp;')">
              <xsl:value-of select="$n - 4 + string-length(substring-before($tail, '&amp;'))"/>
            </xsl:when>
            <xsl:otherwise><xsl:value-of select="$n"/></xsl:otherwise>
          </xsl:choose>
        </xsl:variable>
        <xsl:call-template name="html-text">
          <xsl:with-param name="s" select="substring($s, 1, $cut)"/>
          <xsl:with-param name="html" select="true()"/>
        </xsl:call-template>
        <xsl:call-template name="html-text">
          <xsl:with-param name="s" select="substring($s, $cut + 1)"/>
          <xsl:with-param name="html" select="true()"/>
        </xsl:call-template>
      </xsl:when>
      <xsl:otherwise>
        <xsl:value-of select="substring-before($s, '&amp;')"/>
        <xsl:variable name="after" select="substring-after($s, '&amp;')"/>
        <xsl:choose>
          <xsl:when test="starts-with($after, 'lt;')">
            <xsl:text>&lt;</xsl:text>
            <xsl:call-template name="html-text">
              <xsl:with-param name="s" select="substring($after, 4)"/>
              <xsl:with-param name="html" select="true()"/>
            </xsl:call-template>
          </xsl:when>
          <xsl:when test="starts-with($after, 'gt;')">
            <xsl:text>&gt;</xsl:text>
            <xsl:call-template name="html-text">
              <xsl:with-param name="s" select="substring($after, 4)"/>
              <xsl:with-param name="html" select="true()"/>
            </xsl:call-template>
          </xsl:when>
          <xsl:when test="starts-with($after, 'amp;')">
            <xsl:text>&amp;</xsl:text>
            <xsl:call-template name="html-text">
              <xsl:with-param name="s" select="substring($after, 5)"/>
              <xsl:with-param name="html" select="true()"/>
            </xsl:call-template>
          </xsl:when>
          <xsl:otherwise>
            <xsl:text>&amp;</xsl:text>
            <xsl:call-template name="html-text">
              <xsl:with-param name="s" select="$after"/>
              <xsl:with-param name="html" select="true()"/>
            </xsl:call-template>
          </xsl:otherwise>
        </xsl:choose>
      </xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <!-- Label of an RSS category (its text) or Atom category (label, else term). -->
  <xsl:template name="category-label">
    <xsl:choose>
      <xsl:when test="normalize-space(@label) != ''"><xsl:value-of select="normalize-space(@label)"/></xsl:when>
      <xsl:when test="@term"><xsl:value-of select="normalize-space(@term)"/></xsl:when>
      <xsl:otherwise><xsl:value-of select="normalize-space(.)"/></xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <!-- Paging links (RFC 5005): Atom link, or atom:link inside an RSS channel. -->
  <xsl:template name="pager">
    <xsl:variable name="previous" select="$links[@rel='previous' or @rel='prev'][1]/@href"/>
    <xsl:variable name="next" select="$links[@rel='next'][1]/@href"/>
    <xsl:if test="$previous or $next">
      <nav class="pager">
        <xsl:attribute name="aria-label">
          <xsl:call-template name="l">
            <xsl:with-param name="es">Páginas del feed</xsl:with-param>
            <xsl:with-param name="en">Feed pages</xsl:with-param>
          </xsl:call-template>
        </xsl:attribute>
        <span class="pager-prev">
          <xsl:if test="$previous">
            <a rel="prev" class="button" href="{$previous}">
              <xsl:text>← </xsl:text>
              <xsl:call-template name="l">
                <xsl:with-param name="es">Más recientes</xsl:with-param>
                <xsl:with-param name="en">Newer</xsl:with-param>
              </xsl:call-template>
            </a>
          </xsl:if>
        </span>
        <span class="pager-where">
          <xsl:variable name="current">
            <xsl:call-template name="page-number">
              <xsl:with-param name="href" select="$self-url"/>
            </xsl:call-template>
          </xsl:variable>
          <xsl:variable name="last">
            <xsl:if test="$links[@rel='last']">
              <xsl:call-template name="page-number">
                <xsl:with-param name="href" select="$links[@rel='last'][1]/@href"/>
              </xsl:call-template>
            </xsl:if>
          </xsl:variable>
          <xsl:if test="string(number($current)) != 'NaN'">
            <xsl:call-template name="l">
              <xsl:with-param name="es">Página </xsl:with-param>
              <xsl:with-param name="en">Page </xsl:with-param>
            </xsl:call-template>
            <xsl:value-of select="$current"/>
            <xsl:if test="string(number($last)) != 'NaN'">
              <xsl:call-template name="l">
                <xsl:with-param name="es"> de </xsl:with-param>
                <xsl:with-param name="en"> of </xsl:with-param>
              </xsl:call-template>
              <xsl:value-of select="$last"/>
            </xsl:if>
          </xsl:if>
        </span>
        <span class="pager-next">
          <xsl:if test="$next">
            <a rel="next" class="button" href="{$next}">
              <xsl:call-template name="l">
                <xsl:with-param name="es">Anteriores</xsl:with-param>
                <xsl:with-param name="en">Older</xsl:with-param>
              </xsl:call-template>
              <xsl:text> →</xsl:text>
            </a>
          </xsl:if>
        </span>
      </nav>
    </xsl:if>
  </xsl:template>

  <!-- The ?page=N of a page URL; 1 when there is none. -->
  <xsl:template name="page-number">
    <xsl:param name="href"/>
    <xsl:choose>
      <xsl:when test="contains($href, 'page=')">
        <xsl:value-of select="substring-before(concat(substring-after($href, 'page='), '&amp;'), '&amp;')"/>
      </xsl:when>
      <xsl:when test="$href != ''">1</xsl:when>
    </xsl:choose>
  </xsl:template>

  <xsl:template name="footer">
    <footer class="colophon">
      <xsl:variable name="rights" select="normalize-space(($channel/copyright | $channel/atom:rights)[1])"/>
      <xsl:if test="$rights != ''">
        <p><xsl:value-of select="$rights"/></p>
      </xsl:if>
      <xsl:variable name="license" select="normalize-space($channel/creativeCommons:license)"/>
      <p>
        <xsl:if test="$license != ''">
          <a rel="license" href="{$license}">
            <xsl:call-template name="l">
              <xsl:with-param name="es">Licencia</xsl:with-param>
              <xsl:with-param name="en">Licence</xsl:with-param>
            </xsl:call-template>
          </a>
          <xsl:text> · </xsl:text>
        </xsl:if>
        <xsl:call-template name="l">
          <xsl:with-param name="es">Formato: </xsl:with-param>
          <xsl:with-param name="en">Format: </xsl:with-param>
        </xsl:call-template>
        <xsl:choose>
          <xsl:when test="$is-atom">Atom 1.0</xsl:when>
          <xsl:otherwise>RSS <xsl:value-of select="/rss/@version"/></xsl:otherwise>
        </xsl:choose>
      </p>
    </footer>
  </xsl:template>

  <!-- Picks the Spanish or English wording. -->
  <xsl:template name="l">
    <xsl:param name="es"/>
    <xsl:param name="en"/>
    <xsl:choose>
      <xsl:when test="$is-es"><xsl:copy-of select="$es"/></xsl:when>
      <xsl:otherwise><xsl:copy-of select="$en"/></xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <xsl:template name="language-name">
    <xsl:param name="code"/>
    <xsl:variable name="c" select="translate($code, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')"/>
    <xsl:choose>
      <xsl:when test="starts-with($c, 'es')">Leer en español</xsl:when>
      <xsl:when test="starts-with($c, 'en')">Read in English</xsl:when>
      <xsl:otherwise><xsl:value-of select="$code"/></xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <!--
    A <time> for an RFC 822 date (RSS: "Tue, 15 Sep 2026 17:00:00 +0200") or an
    RFC 3339 one (Atom: "2026-09-15T17:00:00+02:00"), shown as "15 September 2026,
    17:00" or "15 de septiembre de 2026, 17:00", in the feed's own time offset.
    Anything else is shown as it is.
  -->
  <xsl:template name="time">
    <xsl:param name="value"/>
    <xsl:variable name="v" select="normalize-space($value)"/>
    <xsl:variable name="iso" select="substring($v, 5, 1) = '-' and substring($v, 8, 1) = '-'"/>
    <xsl:variable name="rfc">
      <xsl:choose>
        <xsl:when test="contains($v, ',')"><xsl:value-of select="normalize-space(substring-after($v, ','))"/></xsl:when>
        <xsl:otherwise><xsl:value-of select="$v"/></xsl:otherwise>
      </xsl:choose>
    </xsl:variable>
    <xsl:variable name="rfc-rest" select="substring-after($rfc, ' ')"/>
    <xsl:variable name="day">
      <xsl:choose>
        <xsl:when test="$iso"><xsl:value-of select="number(substring($v, 9, 2))"/></xsl:when>
        <xsl:otherwise><xsl:value-of select="number(substring-before($rfc, ' '))"/></xsl:otherwise>
      </xsl:choose>
    </xsl:variable>
    <xsl:variable name="month">
      <xsl:choose>
        <xsl:when test="$iso"><xsl:value-of select="number(substring($v, 6, 2))"/></xsl:when>
        <xsl:otherwise>
          <xsl:variable name="abbr" select="substring-before($rfc-rest, ' ')"/>
          <xsl:if test="string-length($abbr) = 3 and contains('JanFebMarAprMayJunJulAugSepOctNovDec', $abbr)">
            <xsl:value-of select="string-length(substring-before('JanFebMarAprMayJunJulAugSepOctNovDec', $abbr)) div 3 + 1"/>
          </xsl:if>
        </xsl:otherwise>
      </xsl:choose>
    </xsl:variable>
    <xsl:variable name="year">
      <xsl:choose>
        <xsl:when test="$iso"><xsl:value-of select="substring($v, 1, 4)"/></xsl:when>
        <xsl:otherwise><xsl:value-of select="substring-before(concat(substring-after($rfc-rest, ' '), ' '), ' ')"/></xsl:otherwise>
      </xsl:choose>
    </xsl:variable>
    <xsl:variable name="clock">
      <xsl:choose>
        <xsl:when test="$iso"><xsl:value-of select="substring($v, 12, 5)"/></xsl:when>
        <xsl:otherwise><xsl:value-of select="substring(substring-after(substring-after($rfc-rest, ' '), ' '), 1, 5)"/></xsl:otherwise>
      </xsl:choose>
    </xsl:variable>
    <time>
      <xsl:choose>
        <xsl:when test="$iso">
          <xsl:attribute name="datetime"><xsl:value-of select="$v"/></xsl:attribute>
        </xsl:when>
        <xsl:when test="string(number($day)) != 'NaN' and string(number($month)) != 'NaN' and string-length($year) = 4">
          <!-- RFC 822 to a valid HTML date, with the time and offset when they parse. -->
          <xsl:variable name="offset" select="substring-after(substring-after(substring-after($rfc-rest, ' '), ' '), ' ')"/>
          <xsl:attribute name="datetime">
            <xsl:value-of select="concat($year, '-', format-number($month, '00'), '-', format-number($day, '00'))"/>
            <xsl:if test="string-length($clock) = 5 and substring($clock, 3, 1) = ':'">
              <xsl:value-of select="concat('T', $clock)"/>
              <xsl:choose>
                <xsl:when test="string-length($offset) = 5 and (starts-with($offset, '+') or starts-with($offset, '-'))">
                  <xsl:value-of select="concat(substring($offset, 1, 3), ':', substring($offset, 4, 2))"/>
                </xsl:when>
                <xsl:when test="$offset = 'GMT' or $offset = 'UT' or $offset = 'Z'">Z</xsl:when>
              </xsl:choose>
            </xsl:if>
          </xsl:attribute>
        </xsl:when>
      </xsl:choose>
      <xsl:attribute name="title"><xsl:value-of select="$v"/></xsl:attribute>
      <xsl:choose>
        <xsl:when test="string(number($day)) != 'NaN' and string(number($month)) != 'NaN' and string-length($year) = 4">
          <xsl:variable name="month-name">
            <xsl:choose>
              <xsl:when test="$is-es">
                <xsl:value-of select="substring-before(substring-after('|1:enero|2:febrero|3:marzo|4:abril|5:mayo|6:junio|7:julio|8:agosto|9:septiembre|10:octubre|11:noviembre|12:diciembre|', concat('|', $month, ':')), '|')"/>
              </xsl:when>
              <xsl:otherwise>
                <xsl:value-of select="substring-before(substring-after('|1:January|2:February|3:March|4:April|5:May|6:June|7:July|8:August|9:September|10:October|11:November|12:December|', concat('|', $month, ':')), '|')"/>
              </xsl:otherwise>
            </xsl:choose>
          </xsl:variable>
          <xsl:value-of select="$day"/>
          <xsl:choose>
            <xsl:when test="$is-es">
              <xsl:value-of select="concat(' de ', $month-name, ' de ', $year)"/>
            </xsl:when>
            <xsl:otherwise>
              <xsl:value-of select="concat(' ', $month-name, ' ', $year)"/>
            </xsl:otherwise>
          </xsl:choose>
          <xsl:if test="string-length($clock) = 5 and substring($clock, 3, 1) = ':'">
            <xsl:value-of select="concat(', ', $clock)"/>
          </xsl:if>
        </xsl:when>
        <xsl:otherwise><xsl:value-of select="$v"/></xsl:otherwise>
      </xsl:choose>
    </time>
  </xsl:template>

  <xsl:template name="css">
:root {
  color-scheme: light dark;
  --bg: #f6f5f1;
  --card: #ffffff;
  --ink: #1d2327;
  --muted: #5d6870;
  --line: #e2e0d8;
  --accent: #0b6e69;
  --accent-ink: #ffffff;
  --banner: #fff4e8;
  --banner-line: #f2c9a0;
  --tag: #eef3f2;
  --tag-ink: #2f4d4a;
  --rss: #b8561a;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #15191c;
    --card: #1d2327;
    --ink: #e8ebed;
    --muted: #a1acb3;
    --line: #2f383e;
    --accent: #5fc7bf;
    --accent-ink: #0f1a19;
    --banner: #2a2117;
    --banner-line: #5a4027;
    --tag: #243331;
    --tag-ink: #c9e3e0;
    --rss: #f0a26b;
  }
}
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; text-size-adjust: 100%; }
body {
  margin: 0;
  background: var(--bg);
  color: var(--ink);
  font: 17px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
}
a { color: var(--accent); text-underline-offset: 0.15em; }
a:hover { text-decoration-thickness: 2px; }
a:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; border-radius: 3px; }
.banner {
  background: var(--banner);
  border-bottom: 1px solid var(--banner-line);
}
.banner-inner {
  max-width: 48rem;
  margin: 0 auto;
  padding: 1.1rem 1.25rem;
  display: flex;
  gap: 1rem;
  align-items: flex-start;
}
.feed-icon { flex: none; margin-top: 0.15rem; }
.banner-text { min-width: 0; }
.banner p { margin: 0 0 0.4rem; font-size: 0.95rem; color: var(--muted); }
.banner .banner-title { font-size: 1.05rem; font-weight: 650; color: var(--ink); }
.banner .subscribe {
  margin: 0.7rem 0 0;
  display: flex;
  flex-wrap: wrap;
  align-items: center;
  gap: 0.5rem;
}
.subscribe-label {
  font-size: 0.8rem;
  font-weight: 650;
  text-transform: uppercase;
  letter-spacing: 0.06em;
  color: var(--muted);
}
.feed-url {
  font: 0.9rem/1.4 ui-monospace, "SFMono-Regular", Menlo, Consolas, "DejaVu Sans Mono", monospace;
  background: var(--card);
  color: var(--ink);
  border: 1px solid var(--banner-line);
  border-radius: 6px;
  padding: 0.3rem 0.6rem;
  overflow-wrap: anywhere;
  -webkit-user-select: all;
  user-select: all;
  cursor: text;
}
.page { max-width: 48rem; margin: 0 auto; padding: 0 1.25rem 3rem; }
.masthead { padding: 2.25rem 0 1.5rem; }
.kicker, .meta {
  display: flex;
  flex-wrap: wrap;
  align-items: center;
  gap: 0.35rem 0.75rem;
  margin: 0;
  font-size: 0.8rem;
  font-weight: 600;
  letter-spacing: 0.05em;
  text-transform: uppercase;
  color: var(--muted);
}
.masthead h1 {
  margin: 0.35rem 0 0.6rem;
  font-size: clamp(1.7rem, 4.5vw, 2.4rem);
  line-height: 1.15;
  letter-spacing: -0.01em;
  text-wrap: pretty;
}
.subtitle { margin: 0; font-size: 1.1rem; color: var(--muted); max-width: 40rem; }
.site { margin: 0.9rem 0 0; font-weight: 600; }
.items { list-style: none; margin: 0; padding: 0; display: grid; gap: 1rem; }
.item article {
  background: var(--card);
  border: 1px solid var(--line);
  border-radius: 12px;
  padding: 1.2rem 1.4rem 1.25rem;
}
.meta .type {
  background: var(--accent);
  color: var(--accent-ink);
  padding: 0.1rem 0.5rem;
  border-radius: 4px;
  letter-spacing: 0.04em;
}
.kicker .updated, .meta time, .meta .updated { text-transform: none; letter-spacing: 0; font-size: 0.88rem; font-weight: 500; }
.kicker .format { color: var(--rss); }
.item-title {
  margin: 0.55rem 0 0.45rem;
  font-size: 1.3rem;
  line-height: 1.3;
  text-wrap: pretty;
}
.item-title a { color: var(--ink); text-decoration: none; }
.item-title a:hover { color: var(--accent); text-decoration: underline; }
.summary { margin: 0; }
.experts { margin: 0.6rem 0 0; font-size: 0.92rem; color: var(--muted); }
.experts .label { font-weight: 600; }
.foot {
  display: flex;
  flex-wrap: wrap;
  align-items: center;
  justify-content: space-between;
  gap: 0.5rem 1rem;
  margin-top: 0.85rem;
}
.tags { list-style: none; margin: 0; padding: 0; display: flex; flex-wrap: wrap; gap: 0.4rem; }
.tag {
  background: var(--tag);
  color: var(--tag-ink);
  font-size: 0.82rem;
  padding: 0.15rem 0.6rem;
  border-radius: 999px;
}
.translation { font-size: 0.88rem; font-weight: 600; }
.empty { padding: 2rem; text-align: center; color: var(--muted); background: var(--card); border-radius: 12px; }
.pager {
  display: grid;
  grid-template-columns: 1fr auto 1fr;
  align-items: center;
  gap: 1rem;
  margin-top: 1.75rem;
}
.pager-where { color: var(--muted); font-size: 0.92rem; text-align: center; }
.pager-next { text-align: right; }
.button {
  display: inline-block;
  padding: 0.5rem 1rem;
  border: 1px solid var(--accent);
  border-radius: 8px;
  font-weight: 600;
  text-decoration: none;
}
.button:hover { background: var(--accent); color: var(--accent-ink); }
.colophon {
  margin-top: 2.5rem;
  padding-top: 1.25rem;
  border-top: 1px solid var(--line);
  font-size: 0.88rem;
  color: var(--muted);
}
.colophon p { margin: 0 0 0.4rem; }
@media (max-width: 34rem) {
  body { font-size: 16px; }
  .banner-inner { padding: 0.9rem 1rem; gap: 0.75rem; }
  .feed-icon { width: 30px; height: 30px; }
  .feed-url { font-size: 0.78rem; padding: 0.3rem 0.45rem; }
  .page { padding: 0 1rem 2.5rem; }
  .item article { padding: 1rem 1.05rem; }
  .item-title { font-size: 1.15rem; }
  .pager { grid-template-columns: 1fr 1fr; }
  .pager-where { grid-column: 1 / -1; grid-row: 1; }
}
  </xsl:template>
</xsl:stylesheet>
